"""What the inventory tools share: settings, look-ups, row locks, stock changes, results.

Invariants kept here, on every backend: `stock_levels.reserved` equals the sum of the
level's active reservations, `0 <= reserved <= on_hand`, and every change of on-hand stock
is a `stock_movements` row, counted in its day's `daily_stock_movements`. A change that
takes a level's available stock below its reorder point (or below the critical share of it)
emits a `low_stock` event.
"""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.base import as_utc, utc_now
from db.daily_movements import record_movement
from db.models import (
    DomainEvent,
    MovementKind,
    ProductVariant,
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockReservation,
    Warehouse,
)
from tools.base import Conflict, InvalidInput, NotFound, ToolContext
from tools.common import get_or_404, setting

DEFAULT_CRITICAL_RATIO = 0.5
DEFAULT_RESERVATION_TTL_MINUTES = 30
SEVERITY_RANK = {"ok": 0, "low": 1, "critical": 2}


# -- settings ----------------------------------------------------------------------------


def critical_ratio(session: Session) -> float:
    """inventory.critical_ratio: available below this share of the reorder point is critical."""
    value = setting(session, "inventory.critical_ratio", DEFAULT_CRITICAL_RATIO)
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        return DEFAULT_CRITICAL_RATIO
    return ratio if 0 <= ratio <= 1 else DEFAULT_CRITICAL_RATIO


def reservation_ttl_minutes(session: Session) -> int:
    value = setting(session, "orders.reservation_ttl_minutes", DEFAULT_RESERVATION_TTL_MINUTES)
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return DEFAULT_RESERVATION_TTL_MINUTES
    return minutes if minutes > 0 else DEFAULT_RESERVATION_TTL_MINUTES


def severity(available: int, reorder_point: int, ratio: float) -> str:
    """ok, low (available below the reorder point) or critical (below ratio x reorder point)."""
    if reorder_point <= 0 or available >= reorder_point:
        return "ok"
    return "critical" if available < reorder_point * ratio else "low"


# -- look-ups ----------------------------------------------------------------------------


def variant_by_sku(session: Session, sku: str, field: str = "sku") -> ProductVariant:
    wanted = sku.strip().upper()
    variant = session.exec(select(ProductVariant).where(ProductVariant.sku == wanted)).first()
    if variant is None:
        raise NotFound(f"SKU {wanted} does not exist; check the catalogue", field=field)
    return variant


def get_variant(session: Session, variant_id: int) -> ProductVariant:
    return get_or_404(session, ProductVariant, variant_id, "variant")


def get_warehouse(session: Session, warehouse_id: int, field: str = "warehouse_id") -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound(f"warehouse {warehouse_id} does not exist", field=field)
    return warehouse


def lock_level(session: Session, variant_id: int, warehouse_id: int) -> StockLevel | None:
    """The stock level of a SKU at a warehouse, locked (SELECT ... FOR UPDATE) and re-read."""
    statement = (
        select(StockLevel)
        .where(StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def lock_or_create_level(session: Session, variant_id: int, warehouse_id: int) -> StockLevel:
    """The locked stock level, created empty first when the SKU was never stocked there."""
    level = lock_level(session, variant_id, warehouse_id)
    if level is not None:
        return level
    try:
        with session.begin_nested():  # a concurrent creator wins the unique constraint
            session.add(
                StockLevel(variant_id=variant_id, warehouse_id=warehouse_id, updated_at=utc_now())
            )
    except IntegrityError:
        pass
    level = lock_level(session, variant_id, warehouse_id)
    assert level is not None
    return level


def insufficient(
    variant: ProductVariant, warehouse: Warehouse, available: int, wanted: int
) -> Conflict:
    return Conflict(
        f"only {available} unit(s) of {variant.sku} available at {warehouse.code}; "
        f"{wanted} requested. Reserve less, transfer stock from another warehouse "
        "or receive a delivery first",
        field="quantity",
        code="insufficient_stock",
    )


# -- results -----------------------------------------------------------------------------


class StockLevelOut(BaseModel):
    id: int
    variant_id: int
    sku: str
    name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand - reserved: what can still be sold.")
    reorder_point: int
    reorder_quantity: int
    max_stock: int | None
    bin_location: str | None
    status: str = Field(description="ok, low (below reorder point) or critical.")
    updated_at: datetime | None


def level_out(
    level: StockLevel, variant: ProductVariant, warehouse_code: str, ratio: float
) -> StockLevelOut:
    available = level.on_hand - level.reserved
    return StockLevelOut(
        id=level.id or 0,
        variant_id=level.variant_id,
        sku=variant.sku,
        name=variant.name,
        warehouse_id=level.warehouse_id,
        warehouse_code=warehouse_code,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=available,
        reorder_point=level.reorder_point,
        reorder_quantity=level.reorder_quantity,
        max_stock=level.max_stock,
        bin_location=level.bin_location,
        status=severity(available, level.reorder_point, ratio),
        updated_at=as_utc(level.updated_at) if level.updated_at else None,
    )


def level_out_of(session: Session, level: StockLevel) -> StockLevelOut:
    variant = get_variant(session, level.variant_id)
    code = get_warehouse(session, level.warehouse_id).code
    return level_out(level, variant, code, critical_ratio(session))


class ReservationOut(BaseModel):
    id: int
    variant_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    order_id: int | None
    quantity: int
    status: str = Field(description="active, committed (shipped), released or expired.")
    expires_at: datetime | None = Field(description="None: held until shipped or released.")
    created_at: datetime
    released_at: datetime | None


def reservation_out(reservation: StockReservation, sku: str, code: str) -> ReservationOut:
    return ReservationOut(
        id=reservation.id or 0,
        variant_id=reservation.variant_id,
        sku=sku,
        warehouse_id=reservation.warehouse_id,
        warehouse_code=code,
        order_id=reservation.order_id,
        quantity=reservation.quantity,
        status=str(reservation.status),
        expires_at=as_utc(reservation.expires_at) if reservation.expires_at else None,
        created_at=as_utc(reservation.created_at),
        released_at=as_utc(reservation.released_at) if reservation.released_at else None,
    )


def reservation_out_of(session: Session, reservation: StockReservation) -> ReservationOut:
    sku = get_variant(session, reservation.variant_id).sku
    code = get_warehouse(session, reservation.warehouse_id).code
    return reservation_out(reservation, sku, code)


class MovementOut(BaseModel):
    id: int
    variant_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    kind: str
    quantity: int = Field(description="Signed: positive added stock, negative removed it.")
    reason: str | None
    reference: str | None
    created_by: str
    created_at: datetime


def movement_out(movement: StockMovement, sku: str, code: str) -> MovementOut:
    return MovementOut(
        id=movement.id or 0,
        variant_id=movement.variant_id,
        sku=sku,
        warehouse_id=movement.warehouse_id,
        warehouse_code=code,
        kind=str(movement.kind),
        quantity=movement.quantity,
        reason=movement.reason,
        reference=movement.reference,
        created_by=movement.created_by,
        created_at=as_utc(movement.created_at),
    )


def movement_payload(movement: StockMovement, level: StockLevel) -> dict[str, Any]:
    return {
        "movement_id": movement.id,
        "variant_id": movement.variant_id,
        "warehouse_id": movement.warehouse_id,
        "kind": str(movement.kind),
        "quantity": movement.quantity,
        "reason": movement.reason,
        "reference": movement.reference,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
    }


# -- changes -----------------------------------------------------------------------------


def move(
    ctx: ToolContext,
    level: StockLevel,
    kind: MovementKind,
    delta: int,
    *,
    reason: str | None,
    reference: str | None,
    release: int = 0,
) -> StockMovement:
    """Change a locked level's on-hand stock by `delta` (and its reserved units by -`release`),
    writing the movement row. Refuses to go below zero or below what stays reserved."""
    if delta == 0:
        raise InvalidInput("a movement needs a non-zero quantity", field="quantity")
    reserved = level.reserved - release
    on_hand = level.on_hand + delta
    if reserved < 0 or on_hand < reserved:
        variant = get_variant(ctx.session, level.variant_id)
        warehouse = get_warehouse(ctx.session, level.warehouse_id)
        raise Conflict(
            f"{variant.sku} at {warehouse.code} has {level.on_hand} on hand and "
            f"{level.reserved} reserved ({level.on_hand - level.reserved} available); "
            f"removing {-delta} would leave less than what is reserved for orders",
            field="quantity",
            code="insufficient_stock",
        )
    level.on_hand = on_hand
    level.reserved = reserved
    level.updated_at = utc_now()
    ctx.session.add(level)
    movement = StockMovement(
        variant_id=level.variant_id,
        warehouse_id=level.warehouse_id,
        kind=kind,
        quantity=delta,
        reason=reason,
        reference=reference,
        created_by=ctx.actor.email,
        created_at=level.updated_at,
    )
    ctx.session.add(movement)
    ctx.session.flush()
    record_movement(ctx.session, movement)
    return movement


def check_low_stock(
    ctx: ToolContext,
    level: StockLevel,
    available_before: int,
    reorder_point_before: int | None = None,
) -> str | None:
    """Emit a low_stock event when a change made the level's status worse; returns the status."""
    ratio = critical_ratio(ctx.session)
    before = severity(
        available_before,
        level.reorder_point if reorder_point_before is None else reorder_point_before,
        ratio,
    )
    available = level.on_hand - level.reserved
    after = severity(available, level.reorder_point, ratio)
    if SEVERITY_RANK[after] <= SEVERITY_RANK[before]:
        return None
    variant = get_variant(ctx.session, level.variant_id)
    warehouse = get_warehouse(ctx.session, level.warehouse_id)
    # An event, not an action: the change that caused it already has its audit entry.
    ctx.session.add(
        DomainEvent(
            event_id=str(uuid.uuid4()),
            type="low_stock",
            domain="inventory",
            entity_type="stock_level",
            entity_id=str(level.id),
            payload={
                "stock_level_id": level.id,
                "variant_id": level.variant_id,
                "sku": variant.sku,
                "warehouse_id": level.warehouse_id,
                "warehouse_code": warehouse.code,
                "available": available,
                "reorder_point": level.reorder_point,
                "reorder_quantity": level.reorder_quantity,
                "severity": after,
            },
            actor=ctx.actor.email,
            created_at=utc_now(),
        )
    )
    return after


def reserve_units(
    ctx: ToolContext,
    variant: ProductVariant,
    warehouse: Warehouse,
    quantity: int,
    *,
    order_id: int | None,
    expires_at: datetime | None,
) -> StockReservation:
    """Reserve units on the locked level; never more than on hand minus reserved."""
    if quantity <= 0:
        raise InvalidInput("reserve at least one unit", field="quantity")
    level = lock_level(ctx.session, variant.id or 0, warehouse.id or 0)
    available = 0 if level is None else level.on_hand - level.reserved
    if level is None or available < quantity:
        raise insufficient(variant, warehouse, available, quantity)
    now = utc_now()
    level.reserved += quantity
    level.updated_at = now
    ctx.session.add(level)
    reservation = StockReservation(
        variant_id=level.variant_id,
        warehouse_id=level.warehouse_id,
        order_id=order_id,
        quantity=quantity,
        expires_at=expires_at,
        created_at=now,
    )
    ctx.session.add(reservation)
    ctx.session.flush()
    ctx.record(
        action="reserve_stock",
        entity_type="stock_reservation",
        entity_id=reservation.id,
        event="stock_reserved",
        domain="inventory",
        after={
            "reservation_id": reservation.id,
            "variant_id": variant.id,
            "sku": variant.sku,
            "warehouse_id": warehouse.id,
            "warehouse_code": warehouse.code,
            "order_id": order_id,
            "quantity": quantity,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "available_after": level.on_hand - level.reserved,
        },
    )
    check_low_stock(ctx, level, available)
    return reservation


def end_reservations(
    ctx: ToolContext,
    reservations: list[StockReservation],
    status: ReservationStatus,
    reason: str,
) -> int:
    """Release (or expire) active reservations: reserved decremented, status and time set.

    The reservations must be locked by the caller; their levels are locked here in id order.
    """
    now = utc_now()
    units = 0
    levels: dict[tuple[int, int], StockLevel] = {}
    for key in sorted({(r.variant_id, r.warehouse_id) for r in reservations}):
        level = lock_level(ctx.session, *key)
        if level is not None:
            levels[key] = level
    for reservation in reservations:
        if reservation.status != ReservationStatus.ACTIVE:
            continue
        level = levels.get((reservation.variant_id, reservation.warehouse_id))
        if level is not None:
            # Never below zero, even if an earlier bug let the counter drift.
            level.reserved = max(0, level.reserved - reservation.quantity)
            level.updated_at = now
            ctx.session.add(level)
        reservation.status = status
        reservation.released_at = now
        ctx.session.add(reservation)
        units += reservation.quantity
        ctx.record(
            action="expire_reservation"
            if status == ReservationStatus.EXPIRED
            else "release_reservation",
            entity_type="stock_reservation",
            entity_id=reservation.id,
            event="stock_released",
            domain="inventory",
            before={"status": "active"},
            after={
                "reservation_id": reservation.id,
                "status": str(status),
                "variant_id": reservation.variant_id,
                "warehouse_id": reservation.warehouse_id,
                "order_id": reservation.order_id,
                "quantity": reservation.quantity,
                "reason": reason,
            },
        )
    return units


def lock_reservations(session: Session, *conditions: Any) -> list[StockReservation]:
    """Active reservations matching the conditions, locked in id order."""
    statement = (
        select(StockReservation)
        .where(col(StockReservation.status) == ReservationStatus.ACTIVE, *conditions)
        .order_by(col(StockReservation.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement).all())
