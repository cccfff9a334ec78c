"""initial schema: all sixteen domains

Revision ID: 0001
Revises:
Create Date: 2026-11-25 00:20:28.917288
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "agent_heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "healthy",
                "degraded",
                "down",
                name="healthstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_heartbeats")),
    )
    with op.batch_alter_table("agent_heartbeats", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_heartbeats_agent_recorded_at", ["agent", "recorded_at"], unique=False
        )

    op.create_table(
        "agent_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "graph_run",
                "tool_call",
                "model_call",
                "http_request",
                name="metrickind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "duration_ms >= 0", name=op.f("ck_agent_metrics_duration_ms_non_negative")
        ),
        sa.CheckConstraint("tokens_in >= 0", name=op.f("ck_agent_metrics_tokens_in_non_negative")),
        sa.CheckConstraint(
            "tokens_out >= 0", name=op.f("ck_agent_metrics_tokens_out_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_metrics")),
    )
    with op.batch_alter_table("agent_metrics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_metrics_agent_recorded_at", ["agent", "recorded_at"], unique=False
        )
        batch_op.create_index("ix_agent_metrics_recorded_at", ["recorded_at"], unique=False)

    op.create_table(
        "blocked_entities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "customer",
                "email",
                "ip",
                "card_fingerprint",
                name="blockedentitykind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("blocked_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unblocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unblocked_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_entities")),
    )
    with op.batch_alter_table("blocked_entities", schema=None) as batch_op:
        batch_op.create_index("ix_blocked_entities_kind_value", ["kind", "value"], unique=False)
        batch_op.create_index(
            "uq_blocked_entities_active",
            ["kind", "value"],
            unique=True,
            sqlite_where=sa.text("unblocked_at IS NULL"),
            postgresql_where=sa.text("unblocked_at IS NULL"),
        )

    op.create_table(
        "carriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("on_time_rate_bp", sa.Integer(), nullable=False),
        sa.Column("max_weight_grams", sa.Integer(), nullable=False),
        sa.Column(
            "tracking_url_template", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("max_weight_grams > 0", name=op.f("ck_carriers_max_weight_positive")),
        sa.CheckConstraint(
            "on_time_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_carriers_on_time_rate_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carriers")),
        sa.UniqueConstraint("code", name=op.f("uq_carriers_code")),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("company", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("marketing_opt_in", sa.Boolean(), nullable=False),
        sa.Column("loyalty_points", sa.Integer(), nullable=False),
        sa.Column(
            "loyalty_tier",
            sa.Enum(
                "bronze",
                "silver",
                "gold",
                "platinum",
                name="loyaltytier",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "loyalty_points >= 0", name=op.f("ck_customers_loyalty_points_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("email", name=op.f("uq_customers_email")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_last_name"), ["last_name"], unique=False)

    op.create_table(
        "document_sequences",
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_value >= 0", name=op.f("ck_document_sequences_last_value_non_negative")
        ),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_document_sequences")),
    )
    op.create_table(
        "domain_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_domain_events_attempts_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_domain_events_event_id")),
    )
    with op.batch_alter_table("domain_events", schema=None) as batch_op:
        batch_op.create_index("ix_domain_events_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(
            "ix_domain_events_published_at_id", ["published_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_domain_events_type"), ["type"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("operation", "key", name=op.f("uq_idempotency_records_operation_key")),
    )
    op.create_table(
        "marketplace_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "marketplace",
            sa.Enum(
                "cdiscount",
                "backmarket",
                "refurbed",
                "mirakl",
                "amazon",
                "ebay",
                name="marketplace",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("seller_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "sandbox", "live", name="connectionmode", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "paused",
                "error",
                name="connectionstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("credentials_hint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_connections")),
        sa.UniqueConstraint(
            "marketplace",
            "seller_id",
            name=op.f("uq_marketplace_connections_marketplace_seller_id"),
        ),
    )
    op.create_table(
        "payment_gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("test", "live", name="gatewaymode", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("fee_bp", sa.Integer(), nullable=False),
        sa.Column("fee_fixed_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fee_bp >= 0", name=op.f("ck_payment_gateways_fee_bp_non_negative")),
        sa.CheckConstraint(
            "fee_fixed_cents >= 0", name=op.f("ck_payment_gateways_fee_fixed_cents_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_gateways")),
        sa.UniqueConstraint("code", name=op.f("uq_payment_gateways_code")),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "revenue",
                "refunds",
                "cancellations",
                "stock",
                "fraud",
                "marketplace",
                name="riskcategory",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "info",
                "low",
                "medium",
                "high",
                "critical",
                name="alertseverity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "resolved",
                name="alertstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("observed_value", sa.Float(), nullable=False),
        sa.Column("expected_value", sa.Float(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("resolution_note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_alerts_status_detected_at", ["status", "detected_at"], unique=False
        )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "manager",
                "support",
                "viewer",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_users_role"), ["role"], unique=False)

    op.create_table(
        "system_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "info",
                "low",
                "medium",
                "high",
                "critical",
                name="alertseverity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "resolved",
                name="alertstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_alerts")),
    )
    with op.batch_alter_table("system_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_system_alerts_dedupe_key"), ["dedupe_key"], unique=False
        )
        batch_op.create_index(
            "ix_system_alerts_status_created_at", ["status", "created_at"], unique=False
        )

    op.create_table(
        "system_settings",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column(
            "value_type",
            sa.Enum(
                "string",
                "integer",
                "number",
                "boolean",
                "json",
                name="configvaluetype",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_system_settings")),
    )
    op.create_table(
        "warehouses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("address_line", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("capacity_locations", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity_locations > 0", name=op.f("ck_warehouses_capacity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("code", name=op.f("uq_warehouses_code")),
    )
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "billing", "shipping", name="addresskind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("line1", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("line2", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_addresses_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_api_keys_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "archived",
                name="articlestatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "helpful_count >= 0", name=op.f("ck_articles_helpful_count_non_negative")
        ),
        sa.CheckConstraint(
            "not_helpful_count >= 0", name=op.f("ck_articles_not_helpful_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_users.id"], name=op.f("fk_articles_author_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_articles_slug")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_category"), ["category"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "rest",
                "chat",
                "cli",
                "automation",
                "seed",
                name="auditchannel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_audit_log_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_user_id"), ["user_id"], unique=False)

    op.create_table(
        "carrier_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column(
            "zone",
            sa.Enum(
                "FR",
                "EU",
                "EUROPE",
                "WORLD",
                name="shippingzone",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "service",
            sa.Enum(
                "standard",
                "express",
                name="shippingservice",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("max_weight_grams", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("transit_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "max_weight_grams > 0", name=op.f("ck_carrier_rates_max_weight_positive")
        ),
        sa.CheckConstraint(
            "price_cents >= 0", name=op.f("ck_carrier_rates_price_cents_non_negative")
        ),
        sa.CheckConstraint("transit_days > 0", name=op.f("ck_carrier_rates_transit_days_positive")),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_carrier_rates_carrier_id_carriers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_rates")),
        sa.UniqueConstraint(
            "carrier_id",
            "zone",
            "service",
            "max_weight_grams",
            name=op.f("uq_carrier_rates_carrier_id_zone_service_max_weight_grams"),
        ),
    )
    with op.batch_alter_table("carrier_rates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_carrier_rates_carrier_id"), ["carrier_id"], unique=False
        )

    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "card",
                "paypal",
                "sepa_debit",
                "bank_transfer",
                "marketplace",
                name="paymentmethodkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("last4", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "exp_month IS NULL OR exp_month BETWEEN 1 AND 12",
            name=op.f("ck_payment_methods_exp_month_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payment_methods_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["payment_gateways.id"],
            name=op.f("fk_payment_methods_gateway_id_payment_gateways"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_methods_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_methods_fingerprint"), ["fingerprint"], unique=False
        )

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "new",
                "refurbished",
                name="productcondition",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "archived",
                name="productstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("warranty_months", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "vat_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_products_vat_rate_range")
        ),
        sa.CheckConstraint(
            "warranty_months >= 0", name=op.f("ck_products_warranty_months_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("slug", name=op.f("uq_products_slug")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_brand"), ["brand"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_status"), ["status"], unique=False)

    op.create_table(
        "article_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_feedback_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_article_feedback_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_feedback")),
    )
    with op.batch_alter_table("article_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_feedback_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "paid",
                "processing",
                "shipped",
                "delivered",
                "cancelled",
                "returned",
                name="orderstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "shop",
                "cdiscount",
                "backmarket",
                "refurbed",
                "mirakl",
                "amazon",
                "ebay",
                name="saleschannel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("marketplace_connection_id", sa.Integer(), nullable=True),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("shipping_address_id", sa.Integer(), nullable=False),
        sa.Column("billing_address_id", sa.Integer(), nullable=False),
        sa.Column(
            "shipping_service",
            sa.Enum(
                "standard",
                "express",
                name="shippingservice",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("shipping_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("ip_address", sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "discount_cents >= 0", name=op.f("ck_orders_discount_cents_non_negative")
        ),
        sa.CheckConstraint(
            "shipping_cents >= 0", name=op.f("ck_orders_shipping_cents_non_negative")
        ),
        sa.CheckConstraint(
            "subtotal_cents >= 0", name=op.f("ck_orders_subtotal_cents_non_negative")
        ),
        sa.CheckConstraint("tax_cents >= 0", name=op.f("ck_orders_tax_cents_non_negative")),
        sa.CheckConstraint(
            "total_cents = subtotal_cents - discount_cents + shipping_cents",
            name=op.f("ck_orders_total_adds_up"),
        ),
        sa.CheckConstraint("total_cents >= 0", name=op.f("ck_orders_total_cents_non_negative")),
        sa.ForeignKeyConstraint(
            ["billing_address_id"],
            ["addresses.id"],
            name=op.f("fk_orders_billing_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["marketplace_connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_orders_marketplace_connection_id_marketplace_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["shipping_address_id"],
            ["addresses.id"],
            name=op.f("fk_orders_shipping_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_orders_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_channel_placed_at", ["channel", "placed_at"], unique=False)
        batch_op.create_index(
            "ix_orders_customer_id_placed_at", ["customer_id", "placed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_marketplace_connection_id"),
            ["marketplace_connection_id"],
            unique=False,
        )
        batch_op.create_index("ix_orders_placed_at", ["placed_at"], unique=False)
        batch_op.create_index("ix_orders_status_placed_at", ["status", "placed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_warehouse_id"), ["warehouse_id"], unique=False)

    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ean", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("attributes", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "grade",
            sa.Enum("A", "B", "C", name="grade", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("cost_cents", sa.Integer(), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "cost_cents >= 0", name=op.f("ck_product_variants_cost_cents_non_negative")
        ),
        sa.CheckConstraint(
            "price_cents >= 0", name=op.f("ck_product_variants_price_cents_non_negative")
        ),
        sa.CheckConstraint("weight_grams > 0", name=op.f("ck_product_variants_weight_positive")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_variants_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("ean", name=op.f("uq_product_variants_ean")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_variants_sku")),
    )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_variants_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "invoice",
                "credit_note",
                "packing_slip",
                "shipping_label",
                name="documentkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "format",
            sa.Enum(
                "pdf",
                "png",
                "zpl",
                name="documentformat",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_documents_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_order_id"), ["order_id"], unique=False)

    op.create_table(
        "fraud_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "allow",
                "flag",
                "review",
                "block",
                name="frauddecision",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("checked_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "order_id IS NOT NULL OR customer_id IS NOT NULL",
            name=op.f("ck_fraud_checks_has_subject"),
        ),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_fraud_checks_score_range")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_fraud_checks_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fraud_checks_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_checks")),
    )
    with op.batch_alter_table("fraud_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fraud_checks_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_fraud_checks_decision_created_at", ["decision", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fraud_checks_order_id"), ["order_id"], unique=False)

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "phone",
                "email",
                "chat",
                "marketplace",
                name="interactionchannel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "question",
                "complaint",
                "feedback",
                "follow_up",
                name="interactionkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_interactions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_interactions_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_interactions_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )

    op.create_table(
        "loyalty_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "earn",
                "redeem",
                "revoke",
                "adjust",
                name="loyaltyentrykind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("points <> 0", name=op.f("ck_loyalty_transactions_points_non_zero")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_loyalty_transactions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_loyalty_transactions_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_transactions")),
    )
    with op.batch_alter_table("loyalty_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_transactions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loyalty_transactions_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "marketplace_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("external_offer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "rejected",
                "paused",
                name="offerstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("rejection_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "price_cents >= 0", name=op.f("ck_marketplace_offers_price_cents_non_negative")
        ),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_marketplace_offers_quantity_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_offers_connection_id_marketplace_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_marketplace_offers_variant_id_product_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_offers")),
        sa.UniqueConstraint(
            "connection_id",
            "variant_id",
            name=op.f("uq_marketplace_offers_connection_id_variant_id"),
        ),
    )
    with op.batch_alter_table("marketplace_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_marketplace_offers_variant_id"), ["variant_id"], unique=False
        )

    op.create_table(
        "marketplace_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_order_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "marketplace_status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False
        ),
        sa.Column(
            "sync_status",
            sa.Enum(
                "pending",
                "synced",
                "failed",
                "ignored",
                name="syncstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "total_cents >= 0", name=op.f("ck_marketplace_orders_total_cents_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_orders_connection_id_marketplace_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_marketplace_orders_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_orders")),
        sa.UniqueConstraint(
            "connection_id",
            "external_order_id",
            name=op.f("uq_marketplace_orders_connection_id_external_order_id"),
        ),
        sa.UniqueConstraint("order_id", name=op.f("uq_marketplace_orders_order_id")),
    )
    with op.batch_alter_table("marketplace_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_marketplace_orders_connection_id_sync_status",
            ["connection_id", "sync_status"],
            unique=False,
        )

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "discount_cents >= 0", name=op.f("ck_order_lines_discount_cents_non_negative")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint("tax_cents >= 0", name=op.f("ck_order_lines_tax_cents_non_negative")),
        sa.CheckConstraint(
            "total_cents >= 0", name=op.f("ck_order_lines_total_cents_non_negative")
        ),
        sa.CheckConstraint(
            "unit_price_cents >= 0", name=op.f("ck_order_lines_unit_price_cents_non_negative")
        ),
        sa.CheckConstraint(
            "vat_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_order_lines_vat_rate_range")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_order_lines_variant_id_product_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_variant_id"), ["variant_id"], unique=False)

    op.create_table(
        "order_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "pending",
                "paid",
                "processing",
                "shipped",
                "delivered",
                "cancelled",
                "returned",
                name="from_status_valid",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "pending",
                "paid",
                "processing",
                "shipped",
                "delivered",
                "cancelled",
                "returned",
                name="to_status_valid",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_status_history_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_status_history")),
    )
    with op.batch_alter_table("order_status_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_status_history_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("payment_method_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "authorized",
                "captured",
                "partially_refunded",
                "refunded",
                "voided",
                "failed",
                name="paymentstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("captured_cents", sa.Integer(), nullable=False),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("provider_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("failure_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("failure_message", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "captured_cents <= amount_cents", name=op.f("ck_payments_capture_within_amount")
        ),
        sa.CheckConstraint(
            "captured_cents >= 0", name=op.f("ck_payments_captured_cents_non_negative")
        ),
        sa.CheckConstraint(
            "refunded_cents <= captured_cents", name=op.f("ck_payments_refund_within_capture")
        ),
        sa.CheckConstraint(
            "refunded_cents >= 0", name=op.f("ck_payments_refunded_cents_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["payment_gateways.id"],
            name=op.f("fk_payments_gateway_id_payment_gateways"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_payments_payment_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_payments_provider_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "ix_payments_status_created_at", ["status", "created_at"], unique=False
        )

    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rma_number", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "authorized",
                "received",
                "inspected",
                "refunded",
                "rejected",
                name="returnstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "changed_mind",
                "defective",
                "damaged_in_transit",
                "wrong_item",
                "not_as_described",
                "other",
                name="returnreason",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("customer_comment", sa.Text(), nullable=True),
        sa.Column("refund_cents", sa.Integer(), nullable=False),
        sa.Column("rejection_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "refund_cents >= 0", name=op.f("ck_return_requests_refund_cents_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_return_requests_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_return_requests_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_requests")),
        sa.UniqueConstraint("rma_number", name=op.f("uq_return_requests_rma_number")),
    )
    with op.batch_alter_table("return_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_return_requests_customer_id_requested_at",
            ["customer_id", "requested_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_return_requests_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "ix_return_requests_status_requested_at", ["status", "requested_at"], unique=False
        )

    op.create_table(
        "satisfaction_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "due",
                "sent",
                "answered",
                "expired",
                name="surveystatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "nps IS NULL OR nps BETWEEN 0 AND 10", name=op.f("ck_satisfaction_surveys_nps_range")
        ),
        sa.CheckConstraint(
            "score IS NULL OR score BETWEEN 1 AND 5",
            name=op.f("ck_satisfaction_surveys_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_satisfaction_surveys_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_satisfaction_surveys_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_surveys")),
        sa.UniqueConstraint("order_id", name=op.f("uq_satisfaction_surveys_order_id")),
    )
    with op.batch_alter_table("satisfaction_surveys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_satisfaction_surveys_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_satisfaction_surveys_status_due_at", ["status", "due_at"], unique=False
        )

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column(
            "service",
            sa.Enum(
                "standard",
                "express",
                name="shippingservice",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("tracking_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "label_created",
                "in_transit",
                "out_for_delivery",
                "delivered",
                "exception",
                "returned_to_sender",
                name="shipmentstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("cost_cents", sa.Integer(), nullable=False),
        sa.Column("estimated_delivery", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cost_cents >= 0", name=op.f("ck_shipments_cost_cents_non_negative")),
        sa.CheckConstraint("weight_grams > 0", name=op.f("ck_shipments_weight_positive")),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_shipments_carrier_id_carriers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_shipments_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_shipments_tracking_number")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_carrier_id"), ["carrier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "ix_shipments_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shipments_warehouse_id"), ["warehouse_id"], unique=False
        )

    op.create_table(
        "stock_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("reorder_quantity", sa.Integer(), nullable=False),
        sa.Column("max_stock", sa.Integer(), nullable=True),
        sa.Column("bin_location", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "max_stock IS NULL OR max_stock >= reorder_point",
            name=op.f("ck_stock_levels_max_stock_above_reorder_point"),
        ),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_levels_on_hand_non_negative")),
        sa.CheckConstraint(
            "reorder_point >= 0", name=op.f("ck_stock_levels_reorder_point_non_negative")
        ),
        sa.CheckConstraint(
            "reorder_quantity >= 0", name=op.f("ck_stock_levels_reorder_quantity_non_negative")
        ),
        sa.CheckConstraint(
            "reserved <= on_hand", name=op.f("ck_stock_levels_reserved_within_on_hand")
        ),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_levels_reserved_non_negative")),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_stock_levels_variant_id_product_variants"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_levels")),
        sa.UniqueConstraint(
            "variant_id", "warehouse_id", name=op.f("uq_stock_levels_variant_id_warehouse_id")
        ),
    )
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_levels_variant_id"), ["variant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stock_levels_warehouse_id"), ["warehouse_id"], unique=False
        )

    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "inbound",
                "outbound",
                "transfer_in",
                "transfer_out",
                "adjustment",
                "return",
                name="movementkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_stock_movements_quantity_non_zero")),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_stock_movements_variant_id_product_variants"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_movements_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index("ix_stock_movements_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stock_movements_reference"), ["reference"], unique=False
        )
        batch_op.create_index(
            "ix_stock_movements_variant_id_created_at", ["variant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_stock_movements_warehouse_id_created_at",
            ["warehouse_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "committed",
                "released",
                "expired",
                name="reservationstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_stock_reservations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_stock_reservations_variant_id_product_variants"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_reservations_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
    )
    with op.batch_alter_table("stock_reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_reservations_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            "ix_stock_reservations_status_expires_at", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stock_reservations_variant_id"), ["variant_id"], unique=False
        )

    op.create_table(
        "marketplace_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("marketplace_order_id", sa.Integer(), nullable=True),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name="messagedirection",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_read", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_messages_connection_id_marketplace_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["marketplace_order_id"],
            ["marketplace_orders.id"],
            name=op.f("fk_marketplace_messages_marketplace_order_id_marketplace_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_messages")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_marketplace_messages_connection_id_external_id"),
        ),
    )
    with op.batch_alter_table("marketplace_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_marketplace_messages_connection_id_is_read",
            ["connection_id", "is_read"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_marketplace_messages_marketplace_order_id"),
            ["marketplace_order_id"],
            unique=False,
        )

    op.create_table(
        "quality_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "inbound_batch",
                "return",
                "audit",
                name="inspectionkind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "in_progress",
                "completed",
                "cancelled",
                name="inspectionstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.Enum(
                "passed",
                "failed",
                name="inspectionresult",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("batch_reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("quantity_inspected", sa.Integer(), nullable=False),
        sa.Column("quantity_failed", sa.Integer(), nullable=False),
        sa.Column(
            "grade",
            sa.Enum("A", "B", "C", name="grade", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'completed') = (result IS NOT NULL)",
            name=op.f("ck_quality_inspections_result_when_completed"),
        ),
        sa.CheckConstraint(
            "quantity_failed <= quantity_inspected",
            name=op.f("ck_quality_inspections_failed_within_inspected"),
        ),
        sa.CheckConstraint(
            "quantity_failed >= 0", name=op.f("ck_quality_inspections_quantity_failed_non_negative")
        ),
        sa.CheckConstraint(
            "quantity_inspected > 0",
            name=op.f("ck_quality_inspections_quantity_inspected_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["staff_users.id"],
            name=op.f("fk_quality_inspections_inspector_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["return_requests.id"],
            name=op.f("fk_quality_inspections_return_id_return_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_quality_inspections_variant_id_product_variants"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_quality_inspections_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_inspections")),
    )
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_inspections_return_id"), ["return_id"], unique=False
        )
        batch_op.create_index(
            "ix_quality_inspections_status_scheduled_for", ["status", "scheduled_for"], unique=False
        )
        batch_op.create_index(
            "ix_quality_inspections_variant_id_completed_at",
            ["variant_id", "completed_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_quality_inspections_warehouse_id"), ["warehouse_id"], unique=False
        )

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                name="refundstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("provider_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_requests.id"], name=op.f("fk_refunds_return_id_return_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_refunds_provider_reference")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index("ix_refunds_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_return_id"), ["return_id"], unique=False)

    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "unopened",
                "opened",
                "damaged",
                "defective",
                name="itemcondition",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("refund_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_lines_quantity_positive")),
        sa.CheckConstraint(
            "refund_cents >= 0", name=op.f("ck_return_lines_refund_cents_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_return_lines_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["return_requests.id"],
            name=op.f("fk_return_lines_return_id_return_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
        sa.UniqueConstraint(
            "return_id", "order_line_id", name=op.f("uq_return_lines_return_id_order_line_id")
        ),
    )
    with op.batch_alter_table("return_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_return_lines_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_return_lines_return_id"), ["return_id"], unique=False)

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "label_created",
                "in_transit",
                "out_for_delivery",
                "delivered",
                "exception",
                "returned_to_sender",
                name="shipmentstatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("location", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_tracking_events_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tracking_events_shipment_id_occurred_at",
            ["shipment_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "warranty_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_number", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "approved",
                "rejected",
                "repaired",
                "replaced",
                "refunded",
                name="warrantystatus",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("fault_description", sa.Text(), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("warranty_ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_warranty_claims_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_warranty_claims_order_line_id_order_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warranty_claims")),
        sa.UniqueConstraint("claim_number", name=op.f("uq_warranty_claims_claim_number")),
    )
    with op.batch_alter_table("warranty_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_warranty_claims_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_warranty_claims_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            "ix_warranty_claims_status_created_at", ["status", "created_at"], unique=False
        )

    op.create_table(
        "quality_defects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column(
            "defect_type",
            sa.Enum(
                "cosmetic",
                "functional",
                "missing_accessory",
                "packaging",
                "wrong_item",
                name="defecttype",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "minor",
                "major",
                "critical",
                name="defectseverity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_quality_defects_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name=op.f("fk_quality_defects_inspection_id_quality_inspections"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["product_variants.id"],
            name=op.f("fk_quality_defects_variant_id_product_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_defects")),
    )
    with op.batch_alter_table("quality_defects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_defects_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_defects_variant_id"), ["variant_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("quality_defects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_defects_variant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_defects_inspection_id"))

    op.drop_table("quality_defects")
    with op.batch_alter_table("warranty_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_warranty_claims_status_created_at")
        batch_op.drop_index(batch_op.f("ix_warranty_claims_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_warranty_claims_customer_id"))

    op.drop_table("warranty_claims")
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_index("ix_tracking_events_shipment_id_occurred_at")

    op.drop_table("tracking_events")
    with op.batch_alter_table("return_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_lines_return_id"))
        batch_op.drop_index(batch_op.f("ix_return_lines_order_line_id"))

    op.drop_table("return_lines")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_return_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))
        batch_op.drop_index("ix_refunds_created_at")

    op.drop_table("refunds")
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_inspections_warehouse_id"))
        batch_op.drop_index("ix_quality_inspections_variant_id_completed_at")
        batch_op.drop_index("ix_quality_inspections_status_scheduled_for")
        batch_op.drop_index(batch_op.f("ix_quality_inspections_return_id"))

    op.drop_table("quality_inspections")
    with op.batch_alter_table("marketplace_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marketplace_messages_marketplace_order_id"))
        batch_op.drop_index("ix_marketplace_messages_connection_id_is_read")

    op.drop_table("marketplace_messages")
    with op.batch_alter_table("stock_reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_reservations_variant_id"))
        batch_op.drop_index("ix_stock_reservations_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_stock_reservations_order_id"))

    op.drop_table("stock_reservations")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_warehouse_id_created_at")
        batch_op.drop_index("ix_stock_movements_variant_id_created_at")
        batch_op.drop_index(batch_op.f("ix_stock_movements_reference"))
        batch_op.drop_index("ix_stock_movements_created_at")

    op.drop_table("stock_movements")
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_levels_warehouse_id"))
        batch_op.drop_index(batch_op.f("ix_stock_levels_variant_id"))

    op.drop_table("stock_levels")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_warehouse_id"))
        batch_op.drop_index("ix_shipments_status_created_at")
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_carrier_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("satisfaction_surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_satisfaction_surveys_status_due_at")
        batch_op.drop_index(batch_op.f("ix_satisfaction_surveys_customer_id"))

    op.drop_table("satisfaction_surveys")
    with op.batch_alter_table("return_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_return_requests_status_requested_at")
        batch_op.drop_index(batch_op.f("ix_return_requests_order_id"))
        batch_op.drop_index("ix_return_requests_customer_id_requested_at")

    op.drop_table("return_requests")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_created_at")
        batch_op.drop_index(batch_op.f("ix_payments_order_id"))
        batch_op.drop_index("ix_payments_created_at")

    op.drop_table("payments")
    with op.batch_alter_table("order_status_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_status_history_order_id"))

    op.drop_table("order_status_history")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_variant_id"))
        batch_op.drop_index(batch_op.f("ix_order_lines_order_id"))

    op.drop_table("order_lines")
    with op.batch_alter_table("marketplace_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_marketplace_orders_connection_id_sync_status")

    op.drop_table("marketplace_orders")
    with op.batch_alter_table("marketplace_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marketplace_offers_variant_id"))

    op.drop_table("marketplace_offers")
    with op.batch_alter_table("loyalty_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loyalty_transactions_order_id"))
        batch_op.drop_index(batch_op.f("ix_loyalty_transactions_customer_id"))

    op.drop_table("loyalty_transactions")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_customer_id_created_at")

    op.drop_table("interactions")
    with op.batch_alter_table("fraud_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraud_checks_order_id"))
        batch_op.drop_index("ix_fraud_checks_decision_created_at")
        batch_op.drop_index(batch_op.f("ix_fraud_checks_customer_id"))

    op.drop_table("fraud_checks")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_order_id"))

    op.drop_table("documents")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_variants_product_id"))

    op.drop_table("product_variants")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_warehouse_id"))
        batch_op.drop_index("ix_orders_status_placed_at")
        batch_op.drop_index("ix_orders_placed_at")
        batch_op.drop_index(batch_op.f("ix_orders_marketplace_connection_id"))
        batch_op.drop_index("ix_orders_customer_id_placed_at")
        batch_op.drop_index("ix_orders_channel_placed_at")

    op.drop_table("orders")
    with op.batch_alter_table("article_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_feedback_article_id"))

    op.drop_table("article_feedback")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_status"))
        batch_op.drop_index(batch_op.f("ix_products_name"))
        batch_op.drop_index(batch_op.f("ix_products_category_id"))
        batch_op.drop_index(batch_op.f("ix_products_brand"))

    op.drop_table("products")
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_methods_fingerprint"))
        batch_op.drop_index(batch_op.f("ix_payment_methods_customer_id"))

    op.drop_table("payment_methods")
    with op.batch_alter_table("carrier_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carrier_rates_carrier_id"))

    op.drop_table("carrier_rates")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_user_id"))
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index("ix_audit_log_created_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_category"))

    op.drop_table("articles")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addresses_customer_id"))

    op.drop_table("addresses")
    op.drop_table("warehouses")
    op.drop_table("system_settings")
    with op.batch_alter_table("system_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_system_alerts_status_created_at")
        batch_op.drop_index(batch_op.f("ix_system_alerts_dedupe_key"))

    op.drop_table("system_alerts")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_role"))

    op.drop_table("staff_users")
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_alerts_status_detected_at")

    op.drop_table("risk_alerts")
    op.drop_table("payment_gateways")
    op.drop_table("marketplace_connections")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("domain_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domain_events_type"))
        batch_op.drop_index("ix_domain_events_published_at_id")
        batch_op.drop_index("ix_domain_events_entity")

    op.drop_table("domain_events")
    op.drop_table("document_sequences")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_last_name"))

    op.drop_table("customers")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_parent_id"))

    op.drop_table("categories")
    op.drop_table("carriers")
    with op.batch_alter_table("blocked_entities", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_blocked_entities_active",
            sqlite_where=sa.text("unblocked_at IS NULL"),
            postgresql_where=sa.text("unblocked_at IS NULL"),
        )
        batch_op.drop_index("ix_blocked_entities_kind_value")

    op.drop_table("blocked_entities")
    with op.batch_alter_table("agent_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_metrics_recorded_at")
        batch_op.drop_index("ix_agent_metrics_agent_recorded_at")

    op.drop_table("agent_metrics")
    with op.batch_alter_table("agent_heartbeats", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_heartbeats_agent_recorded_at")

    op.drop_table("agent_heartbeats")
