"""The sixteen agents: the line the router reads, and the tools each one owns."""

from agents.spec import AgentSpec

AGENT_SPECS: dict[str, AgentSpec] = {
    spec.name: spec
    for spec in (
        AgentSpec(
            "monitoring",
            "System health: service heartbeats, system alerts, agent health, tool latency and "
            "error rates, the event log, whether Comptoir itself is working.",
            (
                "system_overview", "agents_health", "performance_metrics",
                "list_system_alerts", "raise_system_alert", "resolve_system_alert",
                "record_heartbeat", "list_events",
            ),
        ),
        AgentSpec(
            "orders",
            "Customer orders: find, show, create, cancel, change status, hold for review, "
            "expire unpaid ones, order counts and revenue by status or channel.",
            (
                "list_orders", "get_order", "create_order", "cancel_order",
                "update_order_status", "expire_unpaid_orders", "order_analytics",
                "hold_order", "release_order_hold",
            ),
        ),
        AgentSpec(
            "products",
            "The catalogue: products, variants and SKUs, categories, prices, best sellers and "
            "product sales figures.",
            (
                "search_products", "list_products", "get_product", "create_product",
                "update_product", "delete_product", "update_variant_price", "list_categories",
                "create_category", "product_analytics", "product_inventory_analytics",
            ),
        ),
        AgentSpec(
            "marketplace",
            "Marketplaces (CDiscount, BackMarket, Amazon, eBay, Refurbed, Mirakl): connections, "
            "offers and listings, buyer messages, syncing their orders, pushing stock.",
            (
                "list_connections", "get_connection", "create_connection", "update_connection",
                "delete_connection", "list_offers", "create_offer", "push_stock",
                "list_marketplace_orders", "get_marketplace_order", "sync_orders",
                "list_unread_messages",
                "send_message", "mark_messages_read",
            ),
        ),
        AgentSpec(
            "customers",
            "Customers: profiles, contact details, addresses, the 360 view, loyalty points, "
            "interactions, GDPR erasure.",
            (
                "list_customers", "get_customer", "create_customer", "update_customer",
                "customer_360", "add_address", "list_addresses", "get_loyalty",
                "redeem_points", "record_interaction", "list_interactions", "erase_customer",
            ),
        ),
        AgentSpec(
            "inventory",
            "Stock levels per SKU and warehouse: what is available or running out, "
            "reservations, stock movements and adjustments, transfers, reorder settings, "
            "stock value.",
            (
                "get_stock", "product_availability", "low_stock_alerts", "list_movements",
                "record_movement", "transfer_stock", "update_stock_settings",
                "inventory_value", "movement_analytics", "reserve_stock",
                "release_reservation", "expire_reservations", "list_reservations",
            ),
        ),
        AgentSpec(
            "transport",
            "Shipping: carriers and rate cards, shipping quotes, choosing a carrier, "
            "shipments, tracking parcels, delivery.",
            (
                "list_carriers", "get_carrier", "create_carrier", "update_carrier",
                "delete_carrier", "list_rates", "add_rate", "update_rate", "delete_rate",
                "quote_rates", "select_carrier", "list_shipments", "get_shipment",
                "create_shipment", "track_shipment", "mark_delivered",
            ),
        ),
        AgentSpec(
            "payments",
            "Payments: card payments, authorizations, captures, refunds of a payment, voids, "
            "payment methods, gateways, payment figures.",
            (
                "list_order_payments", "get_transaction", "process_payment",
                "authorize_payment", "capture_payment", "void_payment", "refund_payment",
                "list_payment_methods", "add_payment_method", "list_gateways",
                "payment_analytics",
            ),
        ),
        AgentSpec(
            "warehouse",
            "Warehouses: sites, capacity and occupancy, warehouse performance, pick lists for "
            "preparing orders.",
            (
                "list_warehouses", "get_warehouse", "create_warehouse", "update_warehouse",
                "delete_warehouse", "warehouse_capacity", "warehouse_performance",
                "pick_list",
            ),
        ),
        AgentSpec(
            "documents",
            "Documents: invoices, credit notes, packing slips and shipping labels (PDF, PNG, "
            "ZPL) for an order.",
            (
                "list_documents", "get_document", "generate_invoice", "generate_credit_note",
                "generate_packing_slip", "generate_shipping_label",
            ),
        ),
        AgentSpec(
            "fraud",
            "Fraud: fraud scores of orders and customers, suspicious signals, blocking and "
            "unblocking customers, emails, IPs or cards.",
            (
                "check_order_fraud", "check_customer_fraud", "customer_fraud_history",
                "list_blocked_entities", "block_entity", "unblock_entity",
            ),
        ),
        AgentSpec(
            "risk",
            "Business risk: overall risk assessment, anomalies in sales, cancellations or "
            "refunds, risk alerts to acknowledge or resolve.",
            (
                "assess_risk", "detect_anomalies", "list_risk_alerts", "acknowledge_risk_alert",
                "resolve_risk_alert",
            ),
        ),
        AgentSpec(
            "knowledge",
            "Help articles and policies: how-tos, the return policy, shipping rules, answers "
            "from the knowledge base; writing and editing articles.",
            (
                "search_articles", "get_article", "list_articles", "create_article",
                "update_article", "delete_article", "mark_article_helpful",
            ),
        ),
        AgentSpec(
            "after_sales",
            "After-sales: returns (request, authorize, receive, inspect, refund, reject), "
            "warranty claims, satisfaction surveys.",
            (
                "request_return", "authorize_return", "receive_return", "inspect_return",
                "refund_return", "reject_return", "get_return", "list_customer_returns",
                "file_warranty_claim", "decide_warranty_claim", "list_warranty_claims",
                "send_survey", "schedule_survey", "record_survey_response", "survey_stats",
                "list_surveys",
            ),
        ),
        AgentSpec(
            "backoffice",
            "Back office: sales reports and dashboards, system configuration, staff users "
            "and their roles, API keys.",
            (
                "sales_report", "dashboard_metrics", "get_config", "list_config", "set_config",
                "config_history", "list_staff_users", "get_staff_user", "create_staff_user",
                "update_staff_user", "deactivate_staff_user", "create_api_key",
                "revoke_api_key", "list_api_keys",
            ),
        ),
        AgentSpec(
            "quality",
            "Quality control: inspections of refurbished stock and returns, defect rates per "
            "product, quality metrics.",
            (
                "list_inspections", "get_inspection", "schedule_inspection",
                "start_inspection", "complete_inspection", "product_defects",
                "product_quality_metrics",
            ),
        ),
    )
}  # fmt: skip

# Read-only look-ups every agent may use to turn a name in words into an id, or to see the
# order or product a request is about.
LOOKUP_TOOLS = (
    "list_customers", "search_products", "get_product", "list_warehouses", "list_orders",
    "get_order", "list_shipments", "list_connections", "get_marketplace_order",
)  # fmt: skip


def agent_of(tool_name: str) -> str:
    """The agent that owns a tool."""
    for spec in AGENT_SPECS.values():
        if tool_name in spec.tools:
            return spec.name
    raise KeyError(tool_name)
