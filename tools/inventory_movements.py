"""Inventory tools that change stock: movements, transfers, reorder settings."""

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.base import utc_now
from db.models import MovementKind, ProductVariant, StockLevel, StockMovement, Warehouse
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.inventory_core import (
    MovementOut,
    StockLevelOut,
    check_low_stock,
    get_warehouse,
    insufficient,
    level_out_of,
    lock_level,
    lock_or_create_level,
    move,
    movement_out,
    movement_payload,
    variant_by_sku,
)

Sku = Annotated[
    str, Field(min_length=1, max_length=64, description="The SKU, e.g. APP-IPHONE13-128GB-MIDN-A.")
]
Reason = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Why: required for adjustments (count difference, damaged in warehouse, "
        "found, theft / loss, quality downgrade, supplier correction, demo / internal use).",
    ),
]


class MovementResult(BaseModel):
    movement: MovementOut
    stock: StockLevelOut = Field(description="The stock level after the movement.")
    warning: str | None = Field(default=None, description="e.g. on hand above max stock.")


def _over_max(stock: StockLevelOut) -> str | None:
    if stock.max_stock is not None and stock.on_hand > stock.max_stock:
        return (
            f"{stock.sku} at {stock.warehouse_code} now has {stock.on_hand} on hand, above its "
            f"max stock of {stock.max_stock}"
        )
    return None


@tool(agent="inventory", path="/inventory/movements", writes=True, approval=True)
def record_movement(
    ctx: ToolContext,
    sku: Sku,
    warehouse_id: Annotated[int, Field(ge=1, description="Warehouse whose stock changes.")],
    kind: Annotated[
        Literal["inbound", "outbound", "adjustment"],
        Field(
            description="inbound: units received (supplier delivery); outbound: units leaving "
            "outside an order; adjustment: a correction, with a reason."
        ),
    ],
    quantity: Annotated[
        int,
        Field(
            ge=-100_000,
            le=100_000,
            description="Units. Inbound and outbound: a positive count (the kind gives the "
            "direction). Adjustment: signed, +3 adds three units, -2 removes two.",
        ),
    ],
    reason: Reason = None,
    reference: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="e.g. a purchase order or count number."),
    ] = None,
) -> MovementResult:
    """Record a stock movement at a warehouse: a delivery received (inbound), units leaving
    outside an order (outbound) or a correction (adjustment, which needs a reason). Stock never
    goes below zero nor below the units reserved for orders."""
    variant = variant_by_sku(ctx.session, sku)
    warehouse = get_warehouse(ctx.session, warehouse_id)
    reason = reason.strip() if reason else None
    if kind == "adjustment":
        if quantity == 0:
            raise InvalidInput("an adjustment changes stock by at least one unit", field="quantity")
        if not reason or len(reason) < 3:
            raise InvalidInput(
                "an adjustment needs a reason, e.g. 'count difference' or 'damaged in warehouse'",
                field="reason",
            )
        delta = quantity
    elif quantity <= 0:
        raise InvalidInput(
            f"give a positive number of units for an {kind} movement; the kind sets the direction",
            field="quantity",
        )
    else:
        delta = quantity if kind == "inbound" else -quantity
    if delta > 0 and not warehouse.is_active:
        raise Conflict(
            f"warehouse {warehouse.code} is out of service; it cannot receive stock",
            field="warehouse_id",
        )
    if delta > 0:
        level = lock_or_create_level(ctx.session, variant.id or 0, warehouse_id)
    else:
        found = lock_level(ctx.session, variant.id or 0, warehouse_id)
        if found is None:
            raise insufficient(variant, warehouse, 0, -delta)
        level = found
    available_before = level.on_hand - level.reserved
    movement = move(
        ctx, level, MovementKind(kind), delta, reason=reason or kind, reference=reference
    )
    ctx.record(
        action="record_movement",
        entity_type="stock_movement",
        entity_id=movement.id,
        event="stock_movement_recorded",
        domain="inventory",
        before={"on_hand": level.on_hand - delta, "reserved": level.reserved},
        after={**movement_payload(movement, level), "sku": variant.sku},
    )
    check_low_stock(ctx, level, available_before)
    stock = level_out_of(ctx.session, level)
    return MovementResult(
        movement=movement_out(movement, variant.sku, warehouse.code),
        stock=stock,
        warning=_over_max(stock),
    )


class TransferResult(BaseModel):
    reference: str = Field(description="Shared by the two movements of the transfer.")
    quantity: int
    origin: StockLevelOut
    destination: StockLevelOut
    movements: list[MovementOut]
    warning: str | None = None


@tool(agent="inventory", path="/inventory/transfers", writes=True, roles=MANAGERS)
def transfer_stock(
    ctx: ToolContext,
    sku: Sku,
    from_warehouse_id: Annotated[int, Field(ge=1, description="Warehouse the units leave.")],
    to_warehouse_id: Annotated[int, Field(ge=1, description="Warehouse receiving them.")],
    quantity: Annotated[int, Field(ge=1, le=100_000, description="Units to move.")],
    reason: Annotated[
        str | None, Field(max_length=200, description="e.g. 'replenish Paris before Black Friday'.")
    ] = None,
) -> TransferResult:
    """Move available units of a SKU from one warehouse to another: a transfer_out and a
    transfer_in movement sharing one reference. Only available units (not reserved) can move;
    the destination's stock level is created if it never held the SKU."""
    if from_warehouse_id == to_warehouse_id:
        raise InvalidInput("origin and destination are the same warehouse", field="to_warehouse_id")
    variant = variant_by_sku(ctx.session, sku)
    origin = get_warehouse(ctx.session, from_warehouse_id, "from_warehouse_id")
    destination = get_warehouse(ctx.session, to_warehouse_id, "to_warehouse_id")
    if not destination.is_active:
        raise Conflict(
            f"warehouse {destination.code} is out of service; it cannot receive stock",
            field="to_warehouse_id",
        )
    levels: dict[int, StockLevel | None] = {}
    for warehouse_id in sorted((from_warehouse_id, to_warehouse_id)):  # one lock order
        if warehouse_id == from_warehouse_id:
            levels[warehouse_id] = lock_level(ctx.session, variant.id or 0, warehouse_id)
        else:
            levels[warehouse_id] = lock_or_create_level(ctx.session, variant.id or 0, warehouse_id)
    source, target = levels[from_warehouse_id], levels[to_warehouse_id]
    assert target is not None
    available = 0 if source is None else source.on_hand - source.reserved
    if source is None or available < quantity:
        raise insufficient(variant, origin, available, quantity)
    reference = f"TR-{utc_now():%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"
    note = (reason or "").strip() or f"transfer {origin.code} to {destination.code}"
    out = move(ctx, source, MovementKind.TRANSFER_OUT, -quantity, reason=note, reference=reference)
    in_ = move(ctx, target, MovementKind.TRANSFER_IN, quantity, reason=note, reference=reference)
    ctx.record(
        action="transfer_stock",
        entity_type="stock_transfer",
        entity_id=reference,
        event="stock_transferred",
        domain="inventory",
        after={
            "reference": reference,
            "variant_id": variant.id,
            "sku": variant.sku,
            "quantity": quantity,
            "from_warehouse_id": from_warehouse_id,
            "to_warehouse_id": to_warehouse_id,
            "movement_ids": [out.id, in_.id],
            "reason": note,
        },
    )
    check_low_stock(ctx, source, available)
    destination_out = level_out_of(ctx.session, target)
    return TransferResult(
        reference=reference,
        quantity=quantity,
        origin=level_out_of(ctx.session, source),
        destination=destination_out,
        movements=[
            movement_out(out, variant.sku, origin.code),
            movement_out(in_, variant.sku, destination.code),
        ],
        warning=_over_max(destination_out),
    )


@tool(
    agent="inventory",
    path="/inventory/stock/{stock_level_id}",
    method="PATCH",
    writes=True,
    roles=MANAGERS,
)
def update_stock_settings(
    ctx: ToolContext,
    stock_level_id: Annotated[int, Field(ge=1, description="Id of the stock level (get_stock).")],
    reorder_point: Annotated[
        int | None, Field(ge=0, le=1_000_000, description="Alert when available falls below.")
    ] = None,
    reorder_quantity: Annotated[
        int | None, Field(ge=0, le=1_000_000, description="Units to order when replenishing.")
    ] = None,
    max_stock: Annotated[
        int | None, Field(ge=0, le=1_000_000, description="Most units to hold here.")
    ] = None,
    clear_max_stock: Annotated[bool, Field(description="Remove the max stock limit.")] = False,
    bin_location: Annotated[
        str | None,
        Field(min_length=1, max_length=20, description="Storage location, e.g. B-02-11."),
    ] = None,
) -> StockLevelOut:
    """Change a stock level's reorder point, reorder quantity, max stock or bin location.
    The max stock can never be below the reorder point. A reorder point of 0 turns alerts off."""
    changes: dict[str, Any] = {
        key: value
        for key, value in (
            ("reorder_point", reorder_point),
            ("reorder_quantity", reorder_quantity),
            ("max_stock", max_stock),
            ("bin_location", bin_location.strip() if bin_location else None),
        )
        if value is not None
    }
    if clear_max_stock:
        if max_stock is not None:
            raise InvalidInput("give max_stock or clear_max_stock, not both", field="max_stock")
        changes["max_stock"] = None
    if not changes:
        raise InvalidInput(
            "nothing to change: give reorder_point, reorder_quantity, max_stock, "
            "clear_max_stock or bin_location",
            field=None,
        )
    level = get_or_404(ctx.session, StockLevel, stock_level_id, "stock level", lock=True)
    new_point = changes.get("reorder_point", level.reorder_point)
    new_max = changes.get("max_stock", level.max_stock)
    if new_max is not None and new_max < new_point:
        field = "max_stock" if max_stock is not None else "reorder_point"
        raise InvalidInput(
            f"max stock ({new_max}) must be at least the reorder point ({new_point}); "
            "raise max_stock, lower reorder_point or clear the max stock",
            field=field,
        )
    before = {key: getattr(level, key) for key in changes}
    point_before = level.reorder_point
    for key, value in changes.items():
        setattr(level, key, value)
    level.updated_at = utc_now()
    ctx.session.add(level)
    ctx.record(
        action="update_stock_settings",
        entity_type="stock_level",
        entity_id=level.id,
        event="stock_settings_updated",
        domain="inventory",
        before=before,
        after={**changes, "stock_level_id": level.id},
    )
    check_low_stock(ctx, level, level.on_hand - level.reserved, point_before)
    return level_out_of(ctx.session, level)


@tool(agent="inventory", path="/inventory/movements")
def list_movements(
    ctx: ToolContext,
    sku: Annotated[
        str | None, Field(min_length=1, max_length=64, description="Only this exact SKU.")
    ] = None,
    warehouse_id: Annotated[int | None, Field(ge=1, description="Only this warehouse.")] = None,
    kind: Annotated[
        MovementKind | None,
        Field(description="inbound, outbound, transfer_in, transfer_out, adjustment or return."),
    ] = None,
    reference: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="e.g. order:1042 or a transfer TR-..."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MovementOut]:
    """The stock movement log, newest first: every change of on-hand stock with its kind,
    signed quantity, reason, reference and author."""
    statement = (
        select(StockMovement, ProductVariant.sku, Warehouse.code)
        .join(ProductVariant, col(ProductVariant.id) == StockMovement.variant_id)
        .join(Warehouse, col(Warehouse.id) == StockMovement.warehouse_id)
    )
    if sku is not None:
        variant = variant_by_sku(ctx.session, sku)
        statement = statement.where(StockMovement.variant_id == variant.id)
    if warehouse_id is not None:
        statement = statement.where(StockMovement.warehouse_id == warehouse_id)
    if kind is not None:
        statement = statement.where(col(StockMovement.kind) == kind)
    if reference is not None:
        statement = statement.where(StockMovement.reference == reference.strip())
    rows, next_cursor = paginate(ctx.session, statement, col(StockMovement.id), limit, cursor)
    return Page(
        items=[movement_out(m, sku_, code) for m, sku_, code in rows], next_cursor=next_cursor
    )
