"""Tools of the customers agent: the loyalty account (Lumen Club) and interactions with staff."""

from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import select

from db.models import (
    Customer,
    Interaction,
    InteractionChannel,
    InteractionKind,
    LoyaltyEntryKind,
    LoyaltyTier,
    LoyaltyTransaction,
    Order,
)
from tools.base import Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.customers_core import (
    TIER_THRESHOLDS,
    CustomerId,
    Moment,
    lifetime_points,
    live_customer,
    post_points,
    setting_int,
)

# -- loyalty -------------------------------------------------------------------------------


class LedgerEntryOut(BaseModel):
    id: int
    kind: LoyaltyEntryKind
    points: int = Field(description="Signed: earned positive, redeemed and revoked negative.")
    order_id: int | None
    note: str | None
    created_at: Moment


class LoyaltyOut(BaseModel):
    customer_id: int
    balance: int = Field(description="Points available to convert into vouchers.")
    tier: LoyaltyTier
    lifetime_points: int = Field(description="Points earned minus revoked; sets the tier.")
    next_tier: LoyaltyTier | None
    points_to_next_tier: int | None
    vouchers_available: int = Field(description="Vouchers the balance can be converted into.")
    voucher_points: int
    voucher_value_cents: int
    ledger: Page[LedgerEntryOut] = Field(description="Ledger entries, newest first.")


def _next_tier(lifetime: int) -> tuple[LoyaltyTier | None, int | None]:
    above = [(t, tier) for t, tier in TIER_THRESHOLDS if t > lifetime]
    if not above:
        return None, None
    threshold, tier = min(above)
    return tier, threshold - lifetime


@tool(agent="customers", path="/customers/{customer_id}/loyalty")
def get_loyalty(
    ctx: ToolContext, customer_id: CustomerId, limit: Limit = 50, cursor: Cursor = None
) -> LoyaltyOut:
    """A customer's Lumen Club account: points balance, tier (bronze 0, silver 500, gold 2000,
    platinum 5000 lifetime points), points still needed for the next tier, vouchers the
    balance can buy, and the ledger of points earned, redeemed and revoked (newest first)."""
    customer = get_or_404(ctx.session, Customer, customer_id)
    lifetime = lifetime_points(ctx.session, customer_id)
    rows, next_cursor = paginate(
        ctx.session,
        select(LoyaltyTransaction).where(LoyaltyTransaction.customer_id == customer_id),
        LoyaltyTransaction.id,
        limit,
        cursor,
    )
    voucher_points = setting_int(ctx.session, "loyalty.voucher_points")
    next_tier, missing = _next_tier(lifetime)
    return LoyaltyOut(
        customer_id=customer_id,
        balance=customer.loyalty_points,
        tier=customer.loyalty_tier,
        lifetime_points=lifetime,
        next_tier=next_tier,
        points_to_next_tier=missing,
        vouchers_available=max(0, customer.loyalty_points) // max(1, voucher_points),
        voucher_points=voucher_points,
        voucher_value_cents=setting_int(ctx.session, "loyalty.voucher_value_cents"),
        ledger=Page(
            items=[LedgerEntryOut.model_validate(r, from_attributes=True) for r in rows],
            next_cursor=next_cursor,
        ),
    )


class RedemptionOut(BaseModel):
    customer_id: int
    entry_id: int = Field(description="The ledger entry of the redemption.")
    vouchers: int
    points_redeemed: int
    voucher_value_cents: int = Field(description="Value of one voucher.")
    total_value_cents: int
    balance: int = Field(description="Points left after the redemption.")
    tier: LoyaltyTier = Field(description="Unchanged: redeeming never lowers the tier.")


@tool(agent="customers", path="/customers/{customer_id}/loyalty/redeem", writes=True)
def redeem_points(
    ctx: ToolContext,
    customer_id: CustomerId,
    vouchers: Annotated[
        int, Field(ge=1, le=100, description="How many vouchers to convert points into.")
    ] = 1,
) -> RedemptionOut:
    """Convert a customer's points into shop vouchers: each voucher costs loyalty.voucher_points
    points (100 by default) and is worth loyalty.voucher_value_cents (5 EUR by default). The
    balance never goes below zero; the tier is not affected."""
    customer = live_customer(ctx.session, customer_id, lock=True)
    per_voucher = setting_int(ctx.session, "loyalty.voucher_points")
    value = setting_int(ctx.session, "loyalty.voucher_value_cents")
    if per_voucher <= 0 or value <= 0:
        raise Conflict("voucher redemption is switched off in the loyalty settings")
    points = vouchers * per_voucher
    if points > customer.loyalty_points:
        affordable = customer.loyalty_points // per_voucher
        raise Conflict(
            f"customer {customer_id} has {customer.loyalty_points} points; {vouchers} voucher(s) "
            f"need {points} (at most {affordable} voucher(s) now)",
            field="vouchers",
        )
    entry = post_points(
        ctx,
        customer,
        LoyaltyEntryKind.REDEEM,
        -points,
        order_id=None,
        note=f"{vouchers} voucher(s) of {value / 100:.2f} EUR",
        event="loyalty_points_redeemed",
    )
    return RedemptionOut(
        customer_id=customer_id,
        entry_id=entry.id,  # type: ignore[arg-type]
        vouchers=vouchers,
        points_redeemed=points,
        voucher_value_cents=value,
        total_value_cents=vouchers * value,
        balance=customer.loyalty_points,
        tier=customer.loyalty_tier,
    )


# -- interactions --------------------------------------------------------------------------


class InteractionOut(BaseModel):
    id: int
    customer_id: int
    channel: InteractionChannel
    kind: InteractionKind
    subject: str
    body: str
    order_id: int | None
    staff_user_id: int | None
    created_at: Moment


@tool(agent="customers", path="/customers/{customer_id}/interactions", writes=True)
def record_interaction(
    ctx: ToolContext,
    customer_id: CustomerId,
    channel: Annotated[InteractionChannel, Field(description="phone, email, chat or marketplace.")],
    kind: Annotated[
        InteractionKind, Field(description="question, complaint, feedback or follow_up.")
    ],
    subject: Annotated[str, Field(min_length=3, max_length=200, description="One-line summary.")],
    body: Annotated[
        str, Field(max_length=10_000, description="What the customer said and what was done.")
    ] = "",
    order_id: Annotated[
        int | None, Field(ge=1, description="The order it is about, if any.")
    ] = None,
) -> InteractionOut:
    """Log a contact with a customer (a call, an e-mail, a chat or a marketplace message): a
    question, a complaint, feedback, or a follow-up. A follow-up closes the earlier open
    questions and complaints (on the same order when it names one). The acting staff member
    is recorded."""
    live_customer(ctx.session, customer_id)
    if order_id is not None:
        order = get_or_404(ctx.session, Order, order_id)
        if order.customer_id != customer_id:
            raise InvalidInput(
                f"order {order_id} belongs to customer {order.customer_id}, not {customer_id}",
                field="order_id",
            )
    interaction = Interaction(
        customer_id=customer_id,
        channel=channel,
        kind=kind,
        subject=subject.strip(),
        body=body.strip(),
        order_id=order_id,
        staff_user_id=ctx.actor.user_id,
    )
    ctx.session.add(interaction)
    ctx.session.flush()
    out = InteractionOut.model_validate(interaction, from_attributes=True)
    ctx.record(
        action="record_interaction",
        entity_type="interaction",
        entity_id=interaction.id,
        event="interaction_recorded",
        domain="customers",
        payload={
            "interaction_id": interaction.id,
            "customer_id": customer_id,
            "channel": channel.value,
            "kind": kind.value,
            "order_id": order_id,
        },
        after=out.model_dump(mode="json"),
    )
    return out


@tool(agent="customers", path="/customers/{customer_id}/interactions")
def list_interactions(
    ctx: ToolContext,
    customer_id: CustomerId,
    kind: Annotated[InteractionKind | None, Field(description="Only this kind.")] = None,
    channel: Annotated[InteractionChannel | None, Field(description="Only this channel.")] = None,
    order_id: Annotated[int | None, Field(ge=1, description="Only about this order.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InteractionOut]:
    """List a customer's interactions with staff (calls, e-mails, chats, marketplace messages),
    newest first, optionally only one kind, one channel or one order."""
    get_or_404(ctx.session, Customer, customer_id)
    statement = select(Interaction).where(Interaction.customer_id == customer_id)
    if kind is not None:
        statement = statement.where(Interaction.kind == kind)
    if channel is not None:
        statement = statement.where(Interaction.channel == channel)
    if order_id is not None:
        statement = statement.where(Interaction.order_id == order_id)
    rows, next_cursor = paginate(ctx.session, statement, Interaction.id, limit, cursor)
    return Page(
        items=[InteractionOut.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )
