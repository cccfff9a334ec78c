"""Quality inspections of received batches and returned items, and the defects found."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, text_field, timestamp_field
from db.models.catalog import Grade


class InspectionKind(StrEnum):
    INBOUND_BATCH = "inbound_batch"
    RETURN = "return"
    AUDIT = "audit"


class InspectionStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InspectionResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class QualityInspection(SQLModel, table=True):
    __tablename__ = "quality_inspections"
    __table_args__ = (
        sa.CheckConstraint("quantity_inspected > 0", name="quantity_inspected_positive"),
        *non_negative("quantity_failed"),
        sa.CheckConstraint("quantity_failed <= quantity_inspected", name="failed_within_inspected"),
        sa.CheckConstraint(
            "(status = 'completed') = (result IS NOT NULL)", name="result_when_completed"
        ),
        sa.Index("ix_quality_inspections_variant_id_completed_at", "variant_id", "completed_at"),
        sa.Index("ix_quality_inspections_status_scheduled_for", "status", "scheduled_for"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: InspectionKind = enum_field(InspectionKind)
    status: InspectionStatus = enum_field(InspectionStatus, default=InspectionStatus.SCHEDULED)
    result: InspectionResult | None = enum_field(InspectionResult, default=None, nullable=True)
    variant_id: int = Field(foreign_key="product_variants.id")
    warehouse_id: int = Field(foreign_key="warehouses.id", index=True)
    return_id: int | None = Field(default=None, foreign_key="return_requests.id", index=True)
    batch_reference: str | None = Field(default=None, max_length=40)
    quantity_inspected: int = 1
    quantity_failed: int = 0
    grade: Grade | None = enum_field(Grade, default=None, nullable=True)
    inspector_id: int | None = Field(default=None, foreign_key="staff_users.id")
    notes: str | None = text_field()
    scheduled_for: datetime = created_at_field()
    started_at: datetime | None = timestamp_field()
    completed_at: datetime | None = timestamp_field()


class DefectType(StrEnum):
    COSMETIC = "cosmetic"
    FUNCTIONAL = "functional"
    MISSING_ACCESSORY = "missing_accessory"
    PACKAGING = "packaging"
    WRONG_ITEM = "wrong_item"


class DefectSeverity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class QualityDefect(SQLModel, table=True):
    __tablename__ = "quality_defects"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="quality_inspections.id", index=True)
    variant_id: int = Field(foreign_key="product_variants.id", index=True)
    defect_type: DefectType = enum_field(DefectType)
    severity: DefectSeverity = enum_field(DefectSeverity)
    quantity: int = 1
    description: str = Field(max_length=300)
    created_at: datetime = created_at_field()
