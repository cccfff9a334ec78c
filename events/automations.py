"""The automations: small subscribers that react to an event by calling existing tools.

Each reads what it needs, then calls tools (through `run_tool`, as the system actor
`system:<name>`, so every change has its audit entry and event like an agent's). Each
reconciles rather than blindly repeats: it checks what is still missing when it runs, so
running it twice for the same fact does nothing twice; the runner also records every event
handled (events/runner.py), so a duplicate event is not even looked at.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from db.models import (
    AlertSeverity,
    BlockedEntityKind,
    Customer,
    DomainEvent,
    InspectionStatus,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    ProductVariant,
    QualityInspection,
    ReservationStatus,
    ReturnLine,
    ReturnRequest,
    StockLevel,
    StockReservation,
    Warehouse,
)
from tools.base import ToolError
from tools.events import HOLDABLE

Call = Callable[[str, dict[str, Any]], Any]  # run a tool as the automation: call(name, args)


@dataclass
class Reaction:
    """What an automation did with one event: the tools it called, or why it did nothing."""

    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    nothing: str | None = None

    def attempt(self, call: Call, name: str, args: dict[str, Any], what: str) -> Any:
        """Call a tool; a refusal (the state changed meanwhile) is noted, not raised."""
        try:
            result = call(name, args)
        except ToolError as refusal:
            self.refused.append(f"{what}: {refusal.message}")
            return None
        self.done.append(what)
        return result

    @property
    def detail(self) -> str:
        parts = self.done + [f"refused, {r}" for r in self.refused]
        return "; ".join(parts) or self.nothing or "nothing to do"


@dataclass(frozen=True)
class Automation:
    name: str  # its switch in automations.enabled and its actor system:<name>
    summary: str
    event_types: frozenset[str]
    react: Callable[[Session, Call, DomainEvent], Reaction]
    applies: Callable[[DomainEvent], bool] = lambda _event: True


# -- low stock -> a reorder suggestion in a system alert ---------------------------------------


def suggest_reorder(session: Session, call: Call, event: DomainEvent) -> Reaction:
    reaction = Reaction()
    level = session.get(StockLevel, int(event.payload["stock_level_id"]))
    if level is None:
        reaction.nothing = "the stock level no longer exists"
        return reaction
    available = level.on_hand - level.reserved
    if level.reorder_point <= 0 or available >= level.reorder_point:
        reaction.nothing = (
            f"stock is back to {available} available (reorder point {level.reorder_point})"
        )
        return reaction
    sku = session.get(ProductVariant, level.variant_id)
    warehouse = session.get(Warehouse, level.warehouse_id)
    label = f"{sku.sku if sku else level.variant_id} at {warehouse.code if warehouse else '?'}"
    # The same suggestion as low_stock_alerts: the reorder quantity, within max stock.
    quantity = level.reorder_quantity
    if level.max_stock is not None:
        quantity = max(0, min(quantity, level.max_stock - level.on_hand))
    critical = event.payload.get("severity") == "critical"
    title = (
        f"Reorder {quantity} x {label}"
        if quantity
        else f"Low stock of {label}: at max stock, transfer or raise the max"
    )
    message = (
        f"{available} available ({level.on_hand} on hand, {level.reserved} reserved), below "
        f"the reorder point of {level.reorder_point}. Suggested order: {quantity} units "
        f"(reorder quantity {level.reorder_quantity}"
        + (f", max stock {level.max_stock}" if level.max_stock is not None else "")
        + ")."
    )
    result = reaction.attempt(
        call,
        "raise_system_alert",
        {
            "source": "inventory",
            "severity": AlertSeverity.HIGH if critical else AlertSeverity.MEDIUM,
            "title": title,
            "message": message,
            "dedupe_key": f"low_stock:{level.id}",
        },
        f"reorder {quantity} x {label}",
    )
    if result is not None:
        reaction.done[-1] += (
            f" (alert {result.id} already open)" if result.deduplicated else f" (alert {result.id})"
        )
    return reaction


# -- order delivered -> its satisfaction survey falls due --------------------------------------


def survey_due(session: Session, call: Call, event: DomainEvent) -> Reaction:
    reaction = Reaction()
    order_id = int(event.payload["order_id"])
    reaction.attempt(call, "schedule_survey", {"order_id": order_id}, f"survey of order {order_id}")
    return reaction


# -- return received -> quality inspection of each returned SKU --------------------------------


def inspect_return(session: Session, call: Call, event: DomainEvent) -> Reaction:
    reaction = Reaction()
    rma = session.get(ReturnRequest, int(event.payload["return_id"]))
    if rma is None:
        reaction.nothing = "the return no longer exists"
        return reaction
    code = event.payload.get("warehouse")
    warehouse_id = session.exec(select(Warehouse.id).where(Warehouse.code == code)).first()
    if warehouse_id is None:
        order = session.get(Order, rma.order_id)
        warehouse_id = order.warehouse_id if order else None
    returned = session.exec(
        select(OrderLine.variant_id, func.sum(ReturnLine.quantity))
        .join(OrderLine, col(OrderLine.id) == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == rma.id)
        .group_by(col(OrderLine.variant_id))
        .order_by(col(OrderLine.variant_id))
    ).all()
    planned = dict(
        session.exec(
            select(QualityInspection.variant_id, func.sum(QualityInspection.quantity_inspected))
            .where(
                QualityInspection.return_id == rma.id,
                QualityInspection.status != InspectionStatus.CANCELLED,
            )
            .group_by(col(QualityInspection.variant_id))
        ).all()
    )
    for variant_id, quantity in returned:
        missing = int(quantity) - int(planned.get(variant_id, 0))
        if missing <= 0:
            continue
        reaction.attempt(
            call,
            "schedule_inspection",
            {
                "warehouse_id": warehouse_id,
                "quantity": missing,
                "variant_id": variant_id,
                "return_id": rma.id,
                "notes": f"{rma.rma_number}: returned item, scheduled on receipt",
            },
            f"inspection of {missing} unit(s) of variant {variant_id} from {rma.rma_number}",
        )
    if not reaction.done and not reaction.refused:
        reaction.nothing = f"every returned unit of {rma.rma_number} already has an inspection"
    return reaction


# -- entity blocked -> its orders that have not shipped are held -------------------------------


def orders_of_block(session: Session, kind: BlockedEntityKind, value: str) -> list[int]:
    """Open, not yet held orders placed by, from or paid with the blocked entity."""
    statement = select(Order.id).where(
        col(Order.status).in_(HOLDABLE), col(Order.held_at).is_(None)
    )
    if kind == BlockedEntityKind.CUSTOMER:
        statement = statement.where(Order.customer_id == int(value))
    elif kind == BlockedEntityKind.EMAIL:
        statement = statement.join(Customer, col(Customer.id) == Order.customer_id).where(
            func.lower(Customer.email) == value.lower()
        )
    elif kind == BlockedEntityKind.IP:
        statement = statement.where(Order.ip_address == value)
    else:
        paid_with = (
            select(Payment.order_id)
            .join(PaymentMethod, col(PaymentMethod.id) == Payment.payment_method_id)
            .where(func.lower(PaymentMethod.fingerprint) == value.lower())
        )
        statement = statement.where(col(Order.id).in_(paid_with))
    return [i for i in session.exec(statement.order_by(col(Order.id))).all() if i is not None]


def hold_orders(session: Session, call: Call, event: DomainEvent) -> Reaction:
    reaction = Reaction()
    kind = BlockedEntityKind(event.payload["kind"])
    value = str(event.payload["value"])
    secret = kind == BlockedEntityKind.CARD_FINGERPRINT
    shown = f"{kind.value.replace('_', ' ')} {'(card)' if secret else value}"
    reason = f"{shown} blocked: {event.payload.get('reason', '')}"[:200]
    for order_id in orders_of_block(session, kind, value):
        reaction.attempt(
            call, "hold_order", {"order_id": order_id, "reason": reason}, f"order {order_id} held"
        )
    if not reaction.done and not reaction.refused:
        reaction.nothing = f"no order of {shown} waits to ship"
    return reaction


# -- marketplace order synced -> its stock is reserved ------------------------------------------


def reserve_synced(session: Session, call: Call, event: DomainEvent) -> Reaction:
    reaction = Reaction()
    order_id = int(event.payload["order_id"])
    order = session.get(Order, order_id)
    if order is None or order.status not in HOLDABLE:
        reaction.nothing = f"order {order_id} is {order.status.value if order else 'gone'}"
        return reaction
    warehouse_id = event.payload.get("warehouse_id") or order.warehouse_id
    ordered = session.exec(
        select(OrderLine.variant_id, OrderLine.sku, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id == order_id)
        .group_by(col(OrderLine.variant_id), col(OrderLine.sku))
        .order_by(col(OrderLine.variant_id))
    ).all()
    held: dict[int, int] = defaultdict(int)
    for variant_id, quantity in session.exec(
        select(StockReservation.variant_id, sa.func.sum(StockReservation.quantity))
        .where(
            StockReservation.order_id == order_id,
            col(StockReservation.status) == ReservationStatus.ACTIVE,
        )
        .group_by(col(StockReservation.variant_id))
    ).all():
        held[variant_id] = int(quantity)
    for variant_id, sku, quantity in ordered:
        missing = int(quantity) - held[variant_id]
        if missing > 0:
            reaction.attempt(
                call,
                "reserve_stock",
                {
                    "sku": sku,
                    "warehouse_id": warehouse_id,
                    "quantity": missing,
                    "order_id": order_id,
                },
                f"{missing} x {sku} reserved for order {order_id}",
            )
    if not reaction.done and not reaction.refused:
        reaction.nothing = f"the stock of order {order_id} is already reserved"
    return reaction


AUTOMATIONS: tuple[Automation, ...] = (
    Automation(
        name="low_stock_reorder",
        summary="low stock -> a reorder suggestion in a system alert (one open per level)",
        event_types=frozenset({"low_stock"}),
        react=suggest_reorder,
    ),
    Automation(
        name="delivered_survey",
        summary="order delivered -> its satisfaction survey falls due",
        event_types=frozenset({"order_status_updated"}),
        applies=lambda event: event.payload.get("to") == "delivered",
        react=survey_due,
    ),
    Automation(
        name="return_inspection",
        summary="return received -> a quality inspection of each returned SKU",
        event_types=frozenset({"rma_status_updated"}),
        applies=lambda event: event.payload.get("status") == "received",
        react=inspect_return,
    ),
    Automation(
        name="fraud_hold",
        summary="customer, e-mail, IP or card blocked -> its unshipped orders held for review",
        event_types=frozenset({"entity_blocked"}),
        react=hold_orders,
    ),
    Automation(
        name="marketplace_reserve",
        summary="marketplace order synced -> its stock reserved",
        event_types=frozenset({"marketplace_order_synced"}),
        react=reserve_synced,
    ),
)
