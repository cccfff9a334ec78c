"""System health: agent heartbeats and metrics, system alerts and business risk alerts."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, text_field, timestamp_field


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"


class AgentHeartbeat(SQLModel, table=True):
    __tablename__ = "agent_heartbeats"
    __table_args__ = (sa.Index("ix_agent_heartbeats_agent_recorded_at", "agent", "recorded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agent: str = Field(max_length=40)
    status: HealthStatus = enum_field(HealthStatus)
    detail: str | None = Field(default=None, max_length=300)
    recorded_at: datetime = created_at_field()


class MetricKind(StrEnum):
    GRAPH_RUN = "graph_run"
    TOOL_CALL = "tool_call"
    MODEL_CALL = "model_call"
    HTTP_REQUEST = "http_request"


class AgentMetric(SQLModel, table=True):
    """One measured unit of work: a graph run, a tool call, a model call or an HTTP request."""

    __tablename__ = "agent_metrics"
    __table_args__ = (
        *non_negative("duration_ms", "tokens_in", "tokens_out"),
        sa.Index("ix_agent_metrics_agent_recorded_at", "agent", "recorded_at"),
        sa.Index("ix_agent_metrics_recorded_at", "recorded_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agent: str = Field(max_length=40)
    kind: MetricKind = enum_field(MetricKind)
    name: str = Field(max_length=80, description="Tool, model or route name.")
    duration_ms: float
    success: bool
    error_code: str | None = Field(default=None, max_length=40)
    tokens_in: int = 0
    tokens_out: int = 0
    recorded_at: datetime = created_at_field()


class AlertSeverity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class SystemAlert(SQLModel, table=True):
    """Something wrong with the system itself or its stock (low stock, a failing agent)."""

    __tablename__ = "system_alerts"
    __table_args__ = (sa.Index("ix_system_alerts_status_created_at", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40, description="Agent or component that raised it.")
    severity: AlertSeverity = enum_field(AlertSeverity)
    status: AlertStatus = enum_field(AlertStatus, default=AlertStatus.OPEN)
    title: str = Field(max_length=200)
    message: str = text_field(nullable=False, default="")
    dedupe_key: str | None = Field(default=None, max_length=120, index=True)
    created_at: datetime = created_at_field()
    resolved_at: datetime | None = timestamp_field()
    resolved_by: str | None = Field(default=None, max_length=120)


class RiskCategory(StrEnum):
    REVENUE = "revenue"
    REFUNDS = "refunds"
    CANCELLATIONS = "cancellations"
    STOCK = "stock"
    FRAUD = "fraud"
    MARKETPLACE = "marketplace"


class RiskAlert(SQLModel, table=True):
    """An anomaly in a business metric, with how it was detected."""

    __tablename__ = "risk_alerts"
    __table_args__ = (sa.Index("ix_risk_alerts_status_detected_at", "status", "detected_at"),)

    id: int | None = Field(default=None, primary_key=True)
    category: RiskCategory = enum_field(RiskCategory)
    severity: AlertSeverity = enum_field(AlertSeverity)
    status: AlertStatus = enum_field(AlertStatus, default=AlertStatus.OPEN)
    title: str = Field(max_length=200)
    metric: str = Field(max_length=60)
    observed_value: float
    expected_value: float
    method: str = Field(max_length=200, description="How the anomaly was detected.")
    detail: str = text_field(nullable=False, default="")
    detected_at: datetime = created_at_field()
    acknowledged_at: datetime | None = timestamp_field()
    acknowledged_by: str | None = Field(default=None, max_length=120)
    resolved_at: datetime | None = timestamp_field()
    resolved_by: str | None = Field(default=None, max_length=120)
    resolution_note: str | None = Field(default=None, max_length=300)
