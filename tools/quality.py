"""Tools of the quality agent: inspections of received batches, returned items and stock,
the defects they find, and the 30-day defect rate that raises quality alerts.

An inspection goes scheduled -> in_progress -> completed. Completing one with failed units
recomputes its product's defect rate over 30 days (failed units / inspected units, across
all the product's SKUs); above the quality.defect_rate_alert setting a SystemAlert (source
"quality") is raised, once while it stays open, with a quality_alert event.

The reads (get and list inspections, a product's defects and quality metrics) and the
defect-rate helpers live in tools/quality_reports.py, which this module imports so that
they register with it.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, func, select

from db.base import as_utc, utc_now
from db.models import (
    AlertSeverity,
    DefectSeverity,
    DefectType,
    Grade,
    InspectionKind,
    InspectionResult,
    InspectionStatus,
    MovementKind,
    OrderLine,
    Product,
    ProductVariant,
    QualityDefect,
    QualityInspection,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    StockLevel,
    StockMovement,
    SystemAlert,
    Warehouse,
)
from tools.base import Conflict, InvalidInput, NotFound, ToolContext, tool
from tools.common import get_or_404
from tools.quality_reports import (
    ALERT_WINDOW,
    InspectionId,
    InspectionOut,
    alert_threshold,
    defect_rate_30d,
    inspection_out,
    open_alert,
)

# A return's items can be inspected once they are on their way back or arrived.
INSPECTABLE_RETURNS = (ReturnStatus.AUTHORIZED, ReturnStatus.RECEIVED, ReturnStatus.INSPECTED)


class DefectIn(BaseModel):
    """One kind of defect found, on how many of the inspected units."""

    model_config = ConfigDict(extra="forbid")

    defect_type: Annotated[
        DefectType,
        Field(description="cosmetic, functional, missing_accessory, packaging or wrong_item."),
    ]
    severity: Annotated[DefectSeverity, Field(description="minor, major or critical.")]
    quantity: Annotated[int, Field(ge=1, le=100_000, description="Units with this defect.")] = 1
    description: Annotated[
        str, Field(min_length=3, max_length=300, description="What was seen, in plain words.")
    ]


class CompletedInspection(InspectionOut):
    product_defect_rate_30d: float | None = Field(
        description="The product's failed / inspected units over the last 30 days."
    )
    alert_threshold: float = Field(description="quality.defect_rate_alert from the settings.")
    alert_id: int | None = Field(description="The open quality alert on the product, if any.")
    alert_raised: bool = Field(description="True when this completion raised that alert.")


def _payload(inspection: QualityInspection, sku: str) -> dict[str, Any]:
    return {
        "inspection_id": inspection.id,
        "kind": inspection.kind.value,
        "status": inspection.status.value,
        "result": inspection.result.value if inspection.result else None,
        "sku": sku,
        "variant_id": inspection.variant_id,
        "warehouse_id": inspection.warehouse_id,
        "return_id": inspection.return_id,
        "batch_reference": inspection.batch_reference,
        "quantity_inspected": inspection.quantity_inspected,
        "quantity_failed": inspection.quantity_failed,
    }


# -- the status machine ------------------------------------------------------------------


@tool(agent="quality", path="/quality/inspections", writes=True)
def schedule_inspection(
    ctx: ToolContext,
    warehouse_id: Annotated[int, Field(ge=1, description="Warehouse where it takes place.")],
    quantity: Annotated[int, Field(ge=1, le=100_000, description="Units to inspect.")],
    variant_id: Annotated[int | None, Field(ge=1, description="The SKU's variant id.")] = None,
    sku: Annotated[
        str | None, Field(min_length=3, max_length=64, description="Or the SKU itself.")
    ] = None,
    return_id: Annotated[
        int | None, Field(ge=1, description="For a returned item: the return (RMA) id.")
    ] = None,
    batch_reference: Annotated[
        str | None,
        Field(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:-]{1,39}$",
            description="For a received batch: its reference, e.g. the PO number.",
        ),
    ] = None,
    scheduled_for: Annotated[
        datetime | None, Field(description="When (UTC); default now. Not in the past.")
    ] = None,
    notes: Annotated[str | None, Field(max_length=2000, description="For the inspector.")] = None,
) -> InspectionOut:
    """Schedule a quality inspection of a SKU at a warehouse: of a returned item (give
    return_id), of a received supplier batch (give batch_reference), or, with neither, a spot
    audit of stock on hand. Name the SKU by variant_id or sku."""
    variant = _variant(ctx, variant_id, sku)
    warehouse = get_or_404(ctx.session, Warehouse, warehouse_id)
    if not warehouse.is_active:
        raise Conflict(f"warehouse {warehouse.code} is out of service", field="warehouse_id")
    now = utc_now()
    when = as_utc(scheduled_for) if scheduled_for else now
    if when < datetime.combine(now.date(), time.min, tzinfo=UTC):
        raise InvalidInput(f"{when:%Y-%m-%d} is in the past", field="scheduled_for")
    if when > now + timedelta(days=365):
        raise InvalidInput("schedule inspections within a year", field="scheduled_for")
    if return_id is not None and batch_reference is not None:
        raise InvalidInput(
            "an inspection is of a return or of a batch, not both", field="batch_reference"
        )
    if return_id is not None:
        kind = InspectionKind.RETURN
        _check_return(ctx, return_id, variant, quantity)
    elif batch_reference is not None:
        kind = InspectionKind.INBOUND_BATCH
        received = ctx.session.exec(
            select(func.sum(StockMovement.quantity)).where(
                StockMovement.reference == batch_reference,
                StockMovement.variant_id == variant.id,
                StockMovement.warehouse_id == warehouse_id,
                StockMovement.kind == MovementKind.INBOUND,
            )
        ).one()
        if received is not None and quantity > received:
            raise Conflict(
                f"batch {batch_reference} brought {received} units of {variant.sku} into "
                f"{warehouse.code}; at most {received} can be inspected",
                field="quantity",
            )
    else:
        kind = InspectionKind.AUDIT
        on_hand = ctx.session.exec(
            select(StockLevel.on_hand).where(
                StockLevel.variant_id == variant.id, StockLevel.warehouse_id == warehouse_id
            )
        ).first()
        if quantity > (on_hand or 0):
            raise Conflict(
                f"{warehouse.code} holds {on_hand or 0} units of {variant.sku}; an audit can "
                f"inspect at most that many (give return_id or batch_reference otherwise)",
                field="quantity",
            )
    inspection = QualityInspection(
        kind=kind,
        variant_id=variant.id or 0,
        warehouse_id=warehouse_id,
        return_id=return_id,
        batch_reference=batch_reference,
        quantity_inspected=quantity,
        notes=notes,
        scheduled_for=when,
    )
    ctx.session.add(inspection)
    ctx.session.flush()
    ctx.record(
        action="schedule_inspection",
        entity_type="quality_inspection",
        entity_id=inspection.id,
        event="inspection_scheduled",
        domain="quality",
        payload={**_payload(inspection, variant.sku), "scheduled_for": when.isoformat()},
    )
    return inspection_out(ctx.session, inspection)


def _variant(ctx: ToolContext, variant_id: int | None, sku: str | None) -> ProductVariant:
    if (variant_id is None) == (sku is None):
        raise InvalidInput("name the SKU with either variant_id or sku", field="variant_id")
    if variant_id is not None:
        return get_or_404(ctx.session, ProductVariant, variant_id, "variant")
    variant = ctx.session.exec(
        select(ProductVariant).where(func.upper(ProductVariant.sku) == (sku or "").upper())
    ).first()
    if variant is None:
        raise NotFound(f"there is no SKU {sku}", field="sku")
    return variant


def _check_return(ctx: ToolContext, return_id: int, variant: ProductVariant, quantity: int) -> None:
    rma = get_or_404(ctx.session, ReturnRequest, return_id, "return", lock=True)
    if rma.status not in INSPECTABLE_RETURNS:
        hint = "authorize it first" if rma.status == ReturnStatus.REQUESTED else "it is closed"
        raise Conflict(f"return {rma.rma_number} is {rma.status.value}; {hint}", field="return_id")
    returned = ctx.session.exec(
        select(func.sum(ReturnLine.quantity))
        .join(OrderLine, col(OrderLine.id) == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id, OrderLine.variant_id == variant.id)
    ).one()
    if not returned:
        raise InvalidInput(f"{variant.sku} is not on return {rma.rma_number}", field="variant_id")
    planned = ctx.session.exec(
        select(func.coalesce(func.sum(QualityInspection.quantity_inspected), 0)).where(
            QualityInspection.return_id == return_id,
            QualityInspection.variant_id == variant.id,
            QualityInspection.status != InspectionStatus.CANCELLED,
        )
    ).one()
    if quantity > returned - planned:
        raise Conflict(
            f"return {rma.rma_number} has {returned} units of {variant.sku} and {planned} "
            f"already have an inspection; at most {max(returned - planned, 0)} more",
            field="quantity",
        )


@tool(agent="quality", path="/quality/inspections/{inspection_id}/start", writes=True)
def start_inspection(ctx: ToolContext, inspection_id: InspectionId) -> InspectionOut:
    """Start a scheduled inspection: it becomes in_progress with you as the inspector."""
    inspection = get_or_404(ctx.session, QualityInspection, inspection_id, "inspection", lock=True)
    if inspection.status != InspectionStatus.SCHEDULED:
        raise Conflict(
            f"inspection {inspection_id} is {inspection.status.value}; only a scheduled "
            "inspection can be started"
        )
    inspection.status = InspectionStatus.IN_PROGRESS
    inspection.started_at = utc_now()
    inspection.inspector_id = ctx.actor.user_id
    ctx.session.add(inspection)
    out = inspection_out(ctx.session, inspection)
    ctx.record(
        action="start_inspection",
        entity_type="quality_inspection",
        entity_id=inspection_id,
        event="inspection_started",
        domain="quality",
        payload={**_payload(inspection, out.sku), "inspector": ctx.actor.email},
        before={"status": "scheduled"},
        after={"status": "in_progress"},
    )
    return out


@tool(agent="quality", path="/quality/inspections/{inspection_id}/complete", writes=True)
def complete_inspection(
    ctx: ToolContext,
    inspection_id: InspectionId,
    result: Annotated[InspectionResult, Field(description="passed or failed.")],
    quantity_failed: Annotated[
        int, Field(ge=0, le=100_000, description="Units that failed (0 when all passed).")
    ] = 0,
    defects: Annotated[
        list[DefectIn] | None,
        Field(max_length=50, description="Defects found; needed for every failed unit."),
    ] = None,
    grade: Annotated[
        Grade | None, Field(description="Cosmetic grade A/B/C given to passed units.")
    ] = None,
    notes: Annotated[str | None, Field(max_length=2000, description="Comment.")] = None,
) -> CompletedInspection:
    """Complete an inspection in progress with its result, the units that failed and the
    defects found (type, severity, quantity, description), and optionally a grade. A
    product whose 30-day defect rate goes above quality.defect_rate_alert gets a quality
    alert."""
    inspection = get_or_404(ctx.session, QualityInspection, inspection_id, "inspection", lock=True)
    if inspection.status != InspectionStatus.IN_PROGRESS:
        hint = {
            InspectionStatus.SCHEDULED: "start it first with start_inspection",
            InspectionStatus.COMPLETED: "its result is final",
            InspectionStatus.CANCELLED: "it was cancelled",
        }[inspection.status]
        raise Conflict(f"inspection {inspection_id} is {inspection.status.value}; {hint}")
    total = inspection.quantity_inspected
    defects = defects or []
    if quantity_failed > total:
        raise InvalidInput(
            f"{quantity_failed} units failed but only {total} were inspected",
            field="quantity_failed",
        )
    if result == InspectionResult.FAILED and quantity_failed == 0:
        raise InvalidInput(
            "a failed inspection has at least one failed unit", field="quantity_failed"
        )
    if result == InspectionResult.PASSED and quantity_failed == total:
        raise InvalidInput(f"all {total} units failed; record the result as failed", field="result")
    if result == InspectionResult.FAILED and grade is not None:
        raise InvalidInput("a failed inspection gives no grade", field="grade")
    for index, defect in enumerate(defects):
        if defect.quantity > total:
            raise InvalidInput(
                f"a defect on {defect.quantity} units, but {total} were inspected",
                field=f"defects.{index}.quantity",
            )
    covered = sum(d.quantity for d in defects)
    if covered < quantity_failed:
        raise InvalidInput(
            f"{quantity_failed} units failed but the defects cover {covered}; record what "
            "was wrong with each failed unit",
            field="defects",
        )
    now = utc_now()
    inspection.status = InspectionStatus.COMPLETED
    inspection.result = result
    inspection.quantity_failed = quantity_failed
    inspection.grade = grade
    inspection.completed_at = now
    if notes:
        inspection.notes = f"{inspection.notes}\n{notes}" if inspection.notes else notes
    ctx.session.add(inspection)
    for defect in defects:
        ctx.session.add(
            QualityDefect(
                inspection_id=inspection_id,
                variant_id=inspection.variant_id,
                created_at=now,
                **defect.model_dump(),
            )
        )
    ctx.session.flush()
    out = inspection_out(ctx.session, inspection)
    ctx.record(
        action="complete_inspection",
        entity_type="quality_inspection",
        entity_id=inspection_id,
        event="inspection_completed",
        domain="quality",
        payload={
            **_payload(inspection, out.sku),
            "grade": grade.value if grade else None,
            "defects": [d.model_dump(mode="json") for d in defects],
        },
        before={"status": "in_progress"},
        after={"status": "completed", "result": result.value, "failed": quantity_failed},
    )
    rate, threshold, alert_id, raised = _watch_defect_rate(ctx, out, quantity_failed)
    return CompletedInspection(
        **out.model_dump(),
        product_defect_rate_30d=rate,
        alert_threshold=threshold,
        alert_id=alert_id,
        alert_raised=raised,
    )


# -- the defect-rate alert ---------------------------------------------------------------


def _watch_defect_rate(
    ctx: ToolContext, inspection: InspectionOut, failed_now: int
) -> tuple[float | None, float, int | None, bool]:
    # One completion at a time per product decides on its alert (row lock on PostgreSQL).
    product = ctx.session.exec(
        select(Product).where(Product.id == inspection.product_id).with_for_update()
    ).one()
    threshold = alert_threshold(ctx.session)
    inspected, failed = defect_rate_30d(ctx.session, inspection.product_id)
    rate = round(failed / inspected, 4) if inspected else None
    existing = open_alert(ctx.session, inspection.product_id)
    if existing is not None or not failed_now or rate is None or rate <= threshold:
        return rate, threshold, existing.id if existing else None, False
    types = ctx.session.exec(
        select(QualityDefect.defect_type, func.sum(QualityDefect.quantity))
        .join(QualityInspection, col(QualityInspection.id) == QualityDefect.inspection_id)
        .join(ProductVariant, col(ProductVariant.id) == QualityInspection.variant_id)
        .where(
            ProductVariant.product_id == inspection.product_id,
            QualityInspection.status == InspectionStatus.COMPLETED,
            col(QualityInspection.completed_at) >= utc_now() - ALERT_WINDOW,
        )
        .group_by(col(QualityDefect.defect_type))
        .order_by(func.sum(QualityDefect.quantity).desc())
    ).all()
    found = ", ".join(f"{kind} {units}" for kind, units in types) or "none recorded"
    source = inspection.batch_reference or (
        f"return {inspection.return_id}" if inspection.return_id else "stock audit"
    )
    alert = SystemAlert(
        source="quality",
        severity=AlertSeverity.HIGH if rate >= 2 * threshold else AlertSeverity.MEDIUM,
        title=f"Quality alert: {product.name} defect rate {rate:.1%} over 30 days"[:200],
        message=(
            f"{failed} of {inspected} units of {product.name} inspected over the last 30 days "
            f"failed ({rate:.1%}, threshold {threshold:.1%}). Defects: {found}. Latest: "
            f"inspection {inspection.id} of {inspection.sku} at {inspection.warehouse_code} "
            f"({source}), {failed_now} failed."
        ),
        dedupe_key=f"quality:product:{inspection.product_id}",
    )
    ctx.session.add(alert)
    ctx.session.flush()
    ctx.record(
        action="raise_quality_alert",
        entity_type="system_alert",
        entity_id=alert.id,
        event="quality_alert",
        domain="quality",
        payload={
            "alert_id": alert.id,
            "product_id": inspection.product_id,
            "defect_rate": rate,
            "threshold": threshold,
            "units_inspected": inspected,
            "units_failed": failed,
            "inspection_id": inspection.id,
            "severity": alert.severity.value,
        },
    )
    return rate, threshold, alert.id, True
