"""Tools the events issue needed: reading the outbox, and the operations automations call that
no domain module had yet (a survey falling due, an order held for review and released).

Each registers under the agent whose domain it belongs to.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.base import as_utc, utc_now
from db.models import DomainEvent, Order, OrderStatus, SatisfactionSurvey, SurveyStatus
from tools.after_sales_surveys import SurveyOut
from tools.base import MANAGERS, STAFF, Conflict, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.customers_core import Moment, live_customer

# Orders that have not left the warehouse yet: what a hold can still stop.
HOLDABLE = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING)

OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]
Reason = Annotated[str, Field(min_length=3, max_length=200, description="Why, in a few words.")]


# -- the outbox --------------------------------------------------------------------------


class EventOut(BaseModel):
    id: int
    event_id: str = Field(description="UUID; the same in the Kafka message, for de-duplication.")
    type: str
    domain: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    actor: str
    created_at: Moment
    published_at: Moment | None = Field(description="When the broker acknowledged it; None if not.")
    attempts: int = Field(description="Times the relay tried to publish it.")


@tool(agent="monitoring", path="/monitoring/events", roles=STAFF)
def list_events(
    ctx: ToolContext,
    type: Annotated[
        str | None, Field(max_length=60, description="Only this event type, e.g. low_stock.")
    ] = None,
    domain: Annotated[
        str | None, Field(max_length=30, description="Only this domain, e.g. orders.")
    ] = None,
    entity_type: Annotated[
        str | None, Field(max_length=40, description="Only events of this kind of entity.")
    ] = None,
    entity_id: Annotated[
        str | None, Field(max_length=40, description="With entity_type: only this entity.")
    ] = None,
    unpublished_only: Annotated[
        bool, Field(description="Only events not yet published to Kafka.")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[EventOut]:
    """List domain events, newest first: everything that changed, by whom, with its data, and
    whether the relay has published it to Kafka. With no broker configured, this is where
    other systems read what happens."""
    statement = select(DomainEvent)
    for column, value in (
        (DomainEvent.type, type),
        (DomainEvent.domain, domain),
        (DomainEvent.entity_type, entity_type),
        (DomainEvent.entity_id, entity_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if unpublished_only:
        statement = statement.where(col(DomainEvent.published_at).is_(None))
    rows, next_cursor = paginate(ctx.session, statement, col(DomainEvent.id), limit, cursor)
    return Page(
        items=[EventOut.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


# -- surveys -------------------------------------------------------------------------------


@tool(agent="after_sales", path="/surveys/due", writes=True)
def schedule_survey(ctx: ToolContext, order_id: OrderId) -> SurveyOut:
    """Make the satisfaction survey of a delivered order due (send_survey then sends it). One
    survey per order: an order that already has one is refused with its status."""
    session = ctx.session
    order = get_or_404(session, Order, order_id, lock=True)
    if order.status != OrderStatus.DELIVERED:
        raise Conflict(
            f"order {order_id} is {order.status.value}; a survey falls due on delivery",
            field="order_id",
        )
    live_customer(session, order.customer_id)
    existing = session.exec(
        select(SatisfactionSurvey).where(SatisfactionSurvey.order_id == order_id)
    ).first()
    if existing is not None:
        raise Conflict(
            f"order {order_id} already has survey {existing.id} ({existing.status.value})",
            field="order_id",
        )
    survey = SatisfactionSurvey(
        order_id=order_id,
        customer_id=order.customer_id,
        status=SurveyStatus.DUE,
        due_at=as_utc(order.delivered_at) if order.delivered_at else utc_now(),
    )
    session.add(survey)
    session.flush()
    out = SurveyOut.model_validate(survey, from_attributes=True)
    ctx.record(
        action="schedule_survey",
        entity_type="satisfaction_survey",
        entity_id=survey.id,
        event="survey_due",
        domain="after_sales",
        payload={**out.model_dump(mode="json", exclude={"comment"}), "survey_id": survey.id},
    )
    return out


# -- holds -----------------------------------------------------------------------------------


class OrderHold(BaseModel):
    order_id: int
    status: OrderStatus
    held: bool
    held_at: datetime | None
    hold_reason: str | None


def _hold_out(order: Order) -> OrderHold:
    return OrderHold(
        order_id=order.id or 0,
        status=order.status,
        held=order.held_at is not None,
        held_at=as_utc(order.held_at),
        hold_reason=order.hold_reason,
    )


@tool(agent="orders", path="/orders/{order_id}/hold", writes=True)
def hold_order(ctx: ToolContext, order_id: OrderId, reason: Reason) -> OrderHold:
    """Hold an order that has not shipped (pending, paid or processing) for review: it cannot
    go to processing or be shipped until release_order_hold; it can still be paid or
    cancelled. Used when its customer, e-mail, IP address or card gets blocked."""
    order = get_or_404(ctx.session, Order, order_id, lock=True)
    if order.status not in HOLDABLE:
        raise Conflict(
            f"order {order_id} is {order.status.value}; only orders that have not shipped "
            "can be held",
            field="order_id",
        )
    if order.held_at is not None:
        raise Conflict(
            f"order {order_id} is already held since {as_utc(order.held_at):%Y-%m-%d %H:%M}: "
            f"{order.hold_reason}",
            field="order_id",
        )
    order.held_at, order.hold_reason = utc_now(), reason.strip()
    ctx.session.add(order)
    _record_hold(ctx, order, "hold_order", "order_held", None)
    return _hold_out(order)


@tool(
    agent="orders",
    path="/orders/{order_id}/release-hold",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def release_order_hold(ctx: ToolContext, order_id: OrderId, reason: Reason) -> OrderHold:
    """Release an order held for review so it can be processed and shipped again. Managers
    only: it lets an order that was suspicious go out."""
    order = get_or_404(ctx.session, Order, order_id, lock=True)
    if order.held_at is None:
        raise Conflict(f"order {order_id} is not held", field="order_id")
    before = {"held_at": as_utc(order.held_at).isoformat(), "hold_reason": order.hold_reason}
    order.held_at, order.hold_reason = None, None
    ctx.session.add(order)
    _record_hold(ctx, order, "release_order_hold", "order_hold_released", before, reason)
    return _hold_out(order)


def _record_hold(
    ctx: ToolContext,
    order: Order,
    action: str,
    event: str,
    before: dict[str, Any] | None,
    release_reason: str | None = None,
) -> None:
    after = _hold_out(order).model_dump(mode="json")
    ctx.record(
        action=action,
        entity_type="order",
        entity_id=order.id,
        event=event,
        domain="orders",
        payload={**after, **({"release_reason": release_reason} if release_reason else {})},
        before=before,
        after=after,
    )
