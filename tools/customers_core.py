"""What the customers tools share, and the loyalty ledger that payments and returns feed:
earn_points_for_order and revoke_points_for_refund (re-exported by tools.customers).

No tool is registered here, so any domain may import it without import cycles.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from sqlmodel import Session, func, select

from db.base import as_utc
from db.demo.catalogue import SYSTEM_SETTINGS
from db.models import (
    Customer,
    LoyaltyEntryKind,
    LoyaltyTier,
    LoyaltyTransaction,
    Order,
    OrderStatus,
    ReturnStatus,
    SalesChannel,
)
from tools.base import Conflict, ToolContext
from tools.common import get_or_404, setting_int

Moment = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime handed back in UTC on every database (SQLite returns naive ones)."""

# -- settings and shared argument types ----------------------------------------------------

_DEFAULTS: dict[str, Any] = {key: value for key, value, *_ in SYSTEM_SETTINGS}


EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}$"
)
ERASED_DOMAIN = "erased.invalid"

CustomerId = Annotated[int, Field(ge=1, description="Id of the customer.")]
Email = Annotated[
    str, Field(max_length=254, pattern=EMAIL_PATTERN, description="E-mail address, e.g. a@b.fr.")
]
Name = Annotated[str, Field(min_length=1, max_length=80)]
Phone = Annotated[
    str,
    Field(
        pattern=r"^(\+?[0-9][0-9 ().-]{5,30})?$",
        description="Phone number, e.g. +33 6 12 34 56 78 ('' clears it on update).",
    ),
]
Locale = Annotated[str, Field(pattern=r"^[a-z]{2}-[A-Z]{2}$", description="e.g. fr-FR.")]


def is_erased(customer: Customer) -> bool:
    return customer.email.endswith("@" + ERASED_DOMAIN)


def live_customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    """The customer, refusing one whose data was erased (nothing can be added to it)."""
    customer = get_or_404(session, Customer, customer_id, lock=lock)
    if is_erased(customer):
        raise Conflict(
            f"customer {customer_id} was erased on a GDPR request; nothing can be added to it",
            field="customer_id",
        )
    return customer


class CustomerOut(BaseModel):
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    company: str | None
    locale: str
    marketing_opt_in: bool
    loyalty_points: int
    loyalty_tier: LoyaltyTier
    notes: str | None
    created_at: Moment
    erased: bool = Field(description="True once the personal data was erased (GDPR).")


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut.model_validate(
        {**customer.model_dump(), "erased": is_erased(customer)}, from_attributes=True
    )


OPEN_RETURNS = (
    ReturnStatus.REQUESTED,
    ReturnStatus.AUTHORIZED,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
)
UNDELIVERED = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED)


# -- the loyalty ledger (contract functions for payments and returns) ----------------------

TIER_THRESHOLDS = (
    (5000, LoyaltyTier.PLATINUM),
    (2000, LoyaltyTier.GOLD),
    (500, LoyaltyTier.SILVER),
    (0, LoyaltyTier.BRONZE),
)


def tier_for(lifetime_points: int) -> LoyaltyTier:
    """The tier reached with these lifetime points (earned minus revoked)."""
    return next(tier for threshold, tier in TIER_THRESHOLDS if lifetime_points >= threshold)


def lifetime_points(session: Session, customer_id: int) -> int:
    """Points earned minus points revoked; redemptions and adjustments do not lower it."""
    return int(
        session.exec(
            select(func.coalesce(func.sum(LoyaltyTransaction.points), 0)).where(
                LoyaltyTransaction.customer_id == customer_id,
                LoyaltyTransaction.kind.in_([LoyaltyEntryKind.EARN, LoyaltyEntryKind.REVOKE]),  # type: ignore[attr-defined]
            )
        ).one()
    )


def post_points(
    ctx: ToolContext,
    customer: Customer,
    kind: LoyaltyEntryKind,
    points: int,
    *,
    order_id: int | None,
    note: str,
    event: str,
) -> LoyaltyTransaction:
    """Write one ledger entry, move the balance, recompute the tier, and record the event."""
    entry = LoyaltyTransaction(
        customer_id=customer.id,  # type: ignore[arg-type]
        kind=kind,
        points=points,
        order_id=order_id,
        note=note,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    before = {"balance": customer.loyalty_points, "tier": str(customer.loyalty_tier)}
    customer.loyalty_points += points
    customer.loyalty_tier = tier_for(lifetime_points(ctx.session, customer.id))  # type: ignore[arg-type]
    ctx.session.add(customer)
    after = {"balance": customer.loyalty_points, "tier": str(customer.loyalty_tier)}
    ctx.record(
        action=f"loyalty_{kind.value}",
        entity_type="customer",
        entity_id=customer.id,
        event=event,
        domain="customers",
        payload={
            "customer_id": customer.id,
            "entry_id": entry.id,
            "points": points,
            "order_id": order_id,
            **after,
        },
        before=before,
        after={**after, "points": points, "order_id": order_id},
    )
    return entry


def _order_points(session: Session, order_id: int, kind: LoyaltyEntryKind) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(LoyaltyTransaction.points), 0)).where(
                LoyaltyTransaction.order_id == order_id, LoyaltyTransaction.kind == kind
            )
        ).one()
    )


def earn_points_for_order(ctx: ToolContext, order: Order) -> int:
    """Credit a shop order's points: loyalty.points_per_euro per whole euro paid, shipping
    excluded. Marketplace orders earn nothing; an order is credited once (a second call
    returns 0). Returns the points credited."""
    if order.channel != SalesChannel.SHOP or order.id is None:
        return 0
    if _order_points(ctx.session, order.id, LoyaltyEntryKind.EARN):
        return 0
    per_euro = setting_int(ctx.session, "loyalty.points_per_euro")
    points = max(0, order.total_cents - order.shipping_cents) // 100 * per_euro
    if points <= 0:
        return 0
    customer = get_or_404(ctx.session, Customer, order.customer_id, lock=True)
    if is_erased(customer):
        return 0
    post_points(
        ctx,
        customer,
        LoyaltyEntryKind.EARN,
        points,
        order_id=order.id,
        note=f"order {order.id} paid",
        event="loyalty_points_earned",
    )
    return points


def revoke_points_for_refund(ctx: ToolContext, order: Order, amount_cents: int) -> int:
    """Withdraw the points matching a refund of a shop order (one per whole euro refunded),
    never more than the order earned and not yet withdrawn, and never below a zero balance.
    Returns the points withdrawn."""
    if order.channel != SalesChannel.SHOP or order.id is None or amount_cents < 100:
        return 0
    remaining = _order_points(ctx.session, order.id, LoyaltyEntryKind.EARN) + _order_points(
        ctx.session, order.id, LoyaltyEntryKind.REVOKE
    )
    customer = get_or_404(ctx.session, Customer, order.customer_id, lock=True)
    per_euro = setting_int(ctx.session, "loyalty.points_per_euro")
    points = min(remaining, amount_cents // 100 * per_euro, customer.loyalty_points)
    if points <= 0:
        return 0
    post_points(
        ctx,
        customer,
        LoyaltyEntryKind.REVOKE,
        -points,
        order_id=order.id,
        note=f"order {order.id} refunded ({amount_cents / 100:.2f} EUR)",
        event="loyalty_points_revoked",
    )
    return points
