"""Quality agent, read side: inspections (one, or a filtered list), a product's defects and
quality metrics over a period, and the 30-day defect rate and alert threshold that
complete_inspection watches.

tools/quality.py imports this module, so its tools register with the quality agent.
"""

from datetime import date, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import as_utc, utc_now
from db.models import (
    AlertStatus,
    DefectSeverity,
    DefectType,
    Grade,
    InspectionKind,
    InspectionResult,
    InspectionStatus,
    Product,
    ProductVariant,
    QualityDefect,
    QualityInspection,
    SystemAlert,
    SystemSetting,
    Warehouse,
)
from tools.base import ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate, period

InspectionId = Annotated[int, Field(ge=1, description="Id of the inspection.")]
ProductId = Annotated[int, Field(ge=1, description="Id of the product.")]
Start = Annotated[date | None, Field(description="First day (default: 30 days ago).")]
End = Annotated[date | None, Field(description="Last day (default: today).")]
ALERT_SETTING = "quality.defect_rate_alert"
DEFAULT_ALERT_RATE = 0.05  # the seeded default, used when the setting is missing or unusable
ALERT_WINDOW = timedelta(days=30)


class DefectOut(BaseModel):
    id: int
    defect_type: DefectType
    severity: DefectSeverity
    quantity: int
    description: str
    created_at: datetime


class InspectionSummary(BaseModel):
    id: int
    kind: InspectionKind
    status: InspectionStatus
    result: InspectionResult | None
    product_id: int
    variant_id: int
    sku: str
    warehouse_id: int
    return_id: int | None
    batch_reference: str | None
    quantity_inspected: int
    quantity_failed: int
    grade: Grade | None
    inspector_id: int | None
    scheduled_for: datetime
    started_at: datetime | None
    completed_at: datetime | None


class InspectionOut(InspectionSummary):
    product_name: str
    warehouse_code: str
    notes: str | None
    defects: list[DefectOut]


def _when(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def _summaries(session: Session, rows: list[QualityInspection]) -> list[InspectionSummary]:
    variants = {
        v.id: v
        for v in session.exec(
            select(ProductVariant).where(col(ProductVariant.id).in_({r.variant_id for r in rows}))
        ).all()
    }
    return [
        InspectionSummary(
            id=r.id or 0,
            kind=r.kind,
            status=r.status,
            result=r.result,
            product_id=variants[r.variant_id].product_id,
            variant_id=r.variant_id,
            sku=variants[r.variant_id].sku,
            warehouse_id=r.warehouse_id,
            return_id=r.return_id,
            batch_reference=r.batch_reference,
            quantity_inspected=r.quantity_inspected,
            quantity_failed=r.quantity_failed,
            grade=r.grade,
            inspector_id=r.inspector_id,
            scheduled_for=as_utc(r.scheduled_for),
            started_at=_when(r.started_at),
            completed_at=_when(r.completed_at),
        )
        for r in rows
    ]


def inspection_out(session: Session, inspection: QualityInspection) -> InspectionOut:
    summary = _summaries(session, [inspection])[0]
    product = session.get(Product, summary.product_id)
    warehouse = session.get(Warehouse, inspection.warehouse_id)
    defects = session.exec(
        select(QualityDefect)
        .where(QualityDefect.inspection_id == inspection.id)
        .order_by(col(QualityDefect.id))
    ).all()
    return InspectionOut(
        **summary.model_dump(),
        product_name=product.name if product else "",
        warehouse_code=warehouse.code if warehouse else "",
        notes=inspection.notes,
        defects=[
            DefectOut(
                id=d.id or 0,
                defect_type=d.defect_type,
                severity=d.severity,
                quantity=d.quantity,
                description=d.description,
                created_at=as_utc(d.created_at),
            )
            for d in defects
        ],
    )


def alert_threshold(session: Session) -> float:
    """quality.defect_rate_alert from system_settings, the seeded 5% when unusable."""
    value = session.get(SystemSetting, ALERT_SETTING)
    raw = value.value if value is not None else None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 0 <= raw <= 1:
        return float(raw)
    return DEFAULT_ALERT_RATE


def defect_rate_30d(session: Session, product_id: int) -> tuple[int, int]:
    """(units inspected, units failed) of the product's completed inspections, 30 days."""
    inspected, failed = session.exec(
        select(
            func.coalesce(func.sum(QualityInspection.quantity_inspected), 0),
            func.coalesce(func.sum(QualityInspection.quantity_failed), 0),
        )
        .join(ProductVariant, col(ProductVariant.id) == QualityInspection.variant_id)
        .where(
            ProductVariant.product_id == product_id,
            QualityInspection.status == InspectionStatus.COMPLETED,
            col(QualityInspection.completed_at) >= utc_now() - ALERT_WINDOW,
        )
    ).one()
    return inspected, failed


def open_alert(session: Session, product_id: int) -> SystemAlert | None:
    return session.exec(
        select(SystemAlert).where(
            SystemAlert.dedupe_key == f"quality:product:{product_id}",
            col(SystemAlert.status).in_([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]),
        )
    ).first()


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class DefectLine(BaseModel):
    id: int
    inspection_id: int
    kind: InspectionKind
    variant_id: int
    sku: str
    warehouse_id: int
    return_id: int | None
    batch_reference: str | None
    defect_type: DefectType
    severity: DefectSeverity
    quantity: int
    description: str
    created_at: datetime


@tool(agent="quality", path="/quality/products/{product_id}/defects")
def product_defects(
    ctx: ToolContext,
    product_id: ProductId,
    start: Start = None,
    end: End = None,
    defect_type: Annotated[DefectType | None, Field(description="Only this type.")] = None,
    severity: Annotated[DefectSeverity | None, Field(description="Only this severity.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DefectLine]:
    """The defects found on a product's SKUs over a period, newest first, with the inspection,
    batch or return they come from. Filter by defect type or severity."""
    get_or_404(ctx.session, Product, product_id)
    since, until = period(start, end)
    statement = (
        select(QualityDefect, QualityInspection, ProductVariant.sku)
        .join(QualityInspection, col(QualityInspection.id) == QualityDefect.inspection_id)
        .join(ProductVariant, col(ProductVariant.id) == QualityDefect.variant_id)
        .where(
            ProductVariant.product_id == product_id,
            col(QualityDefect.created_at) >= since,
            col(QualityDefect.created_at) < until,
        )
    )
    if defect_type is not None:
        statement = statement.where(QualityDefect.defect_type == defect_type)
    if severity is not None:
        statement = statement.where(QualityDefect.severity == severity)
    rows, next_cursor = paginate(ctx.session, statement, QualityDefect.id, limit, cursor)
    return Page(
        items=[
            DefectLine(
                id=defect.id or 0,
                inspection_id=defect.inspection_id,
                kind=inspection.kind,
                variant_id=defect.variant_id,
                sku=sku,
                warehouse_id=inspection.warehouse_id,
                return_id=inspection.return_id,
                batch_reference=inspection.batch_reference,
                defect_type=defect.defect_type,
                severity=defect.severity,
                quantity=defect.quantity,
                description=defect.description,
                created_at=as_utc(defect.created_at),
            )
            for defect, inspection, sku in rows
        ],
        next_cursor=next_cursor,
    )


class TypeRate(BaseModel):
    defect_type: DefectType
    units: int = Field(description="Units with this defect.")
    rate: float | None = Field(description="Units with this defect / units inspected.")


class KindCount(BaseModel):
    kind: InspectionKind
    inspections: int
    units_inspected: int
    units_failed: int


class QualityMetrics(BaseModel):
    product_id: int
    name: str
    start: date
    end: date
    inspections: int = Field(description="Inspections completed in the period.")
    passed: int
    failed: int
    pass_rate: float | None = Field(description="Passed inspections / completed inspections.")
    units_inspected: int
    units_failed: int
    defect_rate: float | None = Field(description="Failed units / inspected units.")
    by_kind: list[KindCount]
    defects_by_type: list[TypeRate]
    defects_by_severity: dict[str, int]
    pending_inspections: int = Field(description="Scheduled or in progress now.")
    defect_rate_30d: float | None = Field(description="Over the last 30 days, for the alert.")
    alert_threshold: float
    open_alert_id: int | None


@tool(agent="quality", path="/quality/products/{product_id}/metrics")
def product_quality_metrics(
    ctx: ToolContext, product_id: ProductId, start: Start = None, end: End = None
) -> QualityMetrics:
    """A product's quality over a period, from its completed inspections (received batches,
    returns, audits): pass rate, defect rate (failed / inspected units), defect rate by type,
    defects by severity; plus its 30-day defect rate against the alert threshold."""
    product = get_or_404(ctx.session, Product, product_id)
    since, until = period(start, end)
    done = (
        col(ProductVariant.product_id) == product_id,
        col(QualityInspection.status) == InspectionStatus.COMPLETED,
        col(QualityInspection.completed_at) >= since,
        col(QualityInspection.completed_at) < until,
    )
    rows = ctx.session.execute(
        sa.select(
            col(QualityInspection.kind),
            col(QualityInspection.result),
            func.count(),
            func.sum(QualityInspection.quantity_inspected),
            func.sum(QualityInspection.quantity_failed),
        )
        .join(ProductVariant, col(ProductVariant.id) == QualityInspection.variant_id)
        .where(*done)
        .group_by(col(QualityInspection.kind), col(QualityInspection.result))
    ).all()
    kinds: dict[InspectionKind, KindCount] = {}
    passed = failed = 0
    for kind, result, count, units, units_failed in rows:
        entry = kinds.setdefault(
            kind, KindCount(kind=kind, inspections=0, units_inspected=0, units_failed=0)
        )
        entry.inspections += count
        entry.units_inspected += units
        entry.units_failed += units_failed
        if result == InspectionResult.PASSED:
            passed += count
        else:
            failed += count
    inspected = sum(k.units_inspected for k in kinds.values())
    units_failed = sum(k.units_failed for k in kinds.values())
    defect_rows = ctx.session.exec(
        select(QualityDefect.defect_type, QualityDefect.severity, func.sum(QualityDefect.quantity))
        .join(QualityInspection, col(QualityInspection.id) == QualityDefect.inspection_id)
        .join(ProductVariant, col(ProductVariant.id) == QualityInspection.variant_id)
        .where(*done)
        .group_by(col(QualityDefect.defect_type), col(QualityDefect.severity))
    ).all()
    by_type: dict[DefectType, int] = {}
    by_severity = {s.value: 0 for s in DefectSeverity}
    for defect_type, severity, units in defect_rows:
        by_type[DefectType(defect_type)] = by_type.get(DefectType(defect_type), 0) + units
        by_severity[DefectSeverity(severity).value] += units
    pending = ctx.session.exec(
        select(func.count())
        .select_from(QualityInspection)
        .join(ProductVariant, col(ProductVariant.id) == QualityInspection.variant_id)
        .where(
            ProductVariant.product_id == product_id,
            col(QualityInspection.status).in_(
                [InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS]
            ),
        )
    ).one()
    recent_inspected, recent_failed = defect_rate_30d(ctx.session, product_id)
    alert = open_alert(ctx.session, product_id)
    return QualityMetrics(
        product_id=product_id,
        name=product.name,
        start=since.date(),
        end=(until - timedelta(days=1)).date(),
        inspections=passed + failed,
        passed=passed,
        failed=failed,
        pass_rate=_rate(passed, passed + failed),
        units_inspected=inspected,
        units_failed=units_failed,
        defect_rate=_rate(units_failed, inspected),
        by_kind=sorted(kinds.values(), key=lambda k: k.kind.value),
        defects_by_type=[
            TypeRate(defect_type=t, units=u, rate=_rate(u, inspected))
            for t, u in sorted(by_type.items(), key=lambda item: (-item[1], item[0].value))
        ],
        defects_by_severity=by_severity,
        pending_inspections=pending,
        defect_rate_30d=_rate(recent_failed, recent_inspected),
        alert_threshold=alert_threshold(ctx.session),
        open_alert_id=alert.id if alert else None,
    )


# -- reads -------------------------------------------------------------------------------


@tool(agent="quality", path="/quality/inspections/{inspection_id}")
def get_inspection(ctx: ToolContext, inspection_id: InspectionId) -> InspectionOut:
    """Get one inspection with its SKU, product, warehouse, result, grade and defects."""
    return inspection_out(
        ctx.session, get_or_404(ctx.session, QualityInspection, inspection_id, "inspection")
    )


@tool(agent="quality", path="/quality/inspections")
def list_inspections(
    ctx: ToolContext,
    status: Annotated[InspectionStatus | None, Field(description="Only this status.")] = None,
    kind: Annotated[
        InspectionKind | None, Field(description="inbound_batch, return or audit.")
    ] = None,
    result: Annotated[InspectionResult | None, Field(description="passed or failed.")] = None,
    product_id: Annotated[int | None, Field(ge=1, description="Only this product.")] = None,
    variant_id: Annotated[int | None, Field(ge=1, description="Only this SKU.")] = None,
    warehouse_id: Annotated[int | None, Field(ge=1, description="Only this warehouse.")] = None,
    return_id: Annotated[int | None, Field(ge=1, description="Only this return.")] = None,
    batch_reference: Annotated[
        str | None, Field(min_length=2, max_length=40, description="Only this batch.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InspectionSummary]:
    """List inspections, newest first, filtered by status, kind, result, product, SKU,
    warehouse, return or batch reference."""
    statement = select(QualityInspection)
    filters = (
        (status, QualityInspection.status),
        (kind, QualityInspection.kind),
        (result, QualityInspection.result),
        (variant_id, QualityInspection.variant_id),
        (warehouse_id, QualityInspection.warehouse_id),
        (return_id, QualityInspection.return_id),
        (batch_reference, QualityInspection.batch_reference),
    )
    for value, column in filters:
        if value is not None:
            statement = statement.where(col(column) == value)
    if product_id is not None:
        statement = statement.join(
            ProductVariant, col(ProductVariant.id) == QualityInspection.variant_id
        ).where(ProductVariant.product_id == product_id)
    rows, next_cursor = paginate(ctx.session, statement, QualityInspection.id, limit, cursor)
    return Page(items=_summaries(ctx.session, rows), next_cursor=next_cursor)
