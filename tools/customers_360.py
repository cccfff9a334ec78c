"""The customer 360 view: everything staff need about one customer, from the database rows."""

from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, func, select

from db.base import utc_now
from db.models import (
    SOLD_STATUSES,
    BlockedEntity,
    BlockedEntityKind,
    Customer,
    FraudCheck,
    FraudDecision,
    Interaction,
    InteractionChannel,
    InteractionKind,
    LoyaltyTier,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    SalesChannel,
    WarrantyClaim,
    WarrantyStatus,
)
from tools.base import ToolContext, tool
from tools.common import get_or_404
from tools.customers_core import (
    OPEN_RETURNS,
    CustomerId,
    CustomerOut,
    Moment,
    customer_out,
    lifetime_points,
)


class OrderBrief(BaseModel):
    id: int
    status: OrderStatus
    channel: SalesChannel
    total_cents: int
    placed_at: Moment
    delivered_at: Moment | None


class OrdersSummary(BaseModel):
    count: int = Field(description="Every order, whatever its status.")
    paid_count: int = Field(description="Orders that were paid (cancelled unpaid ones excluded).")
    cancelled_count: int
    returned_count: int
    lifetime_value_cents: int = Field(description="Captured payments minus refunds.")
    average_order_cents: int | None
    first_order_at: Moment | None
    last_order_at: Moment | None
    last_orders: list[OrderBrief]


class ReturnBrief(BaseModel):
    id: int
    rma_number: str
    order_id: int
    status: ReturnStatus
    reason: ReturnReason
    refund_cents: int
    requested_at: Moment


class ReturnsSummary(BaseModel):
    count: int
    open_count: int
    refunded_cents: int = Field(description="Refund due of the RMAs already refunded.")
    recent: list[ReturnBrief]


class RefundBrief(BaseModel):
    id: int
    order_id: int
    return_id: int | None
    amount_cents: int
    status: RefundStatus
    reason: str
    created_at: Moment


class PaymentsSummary(BaseModel):
    captured_cents: int
    refunded_cents: int
    failed_payments: int
    payment_methods: list[str] = Field(description="Saved methods, e.g. 'card visa ****4242'.")
    recent_refunds: list[RefundBrief]


class FraudCheckBrief(BaseModel):
    order_id: int | None
    score: int
    decision: FraudDecision
    created_at: Moment


class BlockBrief(BaseModel):
    kind: BlockedEntityKind
    value: str
    reason: str
    created_at: Moment
    expires_at: Moment | None


class FraudSummary(BaseModel):
    checks: int
    highest_score: int | None
    flagged_or_worse: int = Field(description="Checks decided flag, review or block.")
    recent_checks: list[FraudCheckBrief]
    active_blocks: list[BlockBrief] = Field(
        description="Active blocks on the customer, their e-mail, IPs or cards."
    )


class LoyaltySummary(BaseModel):
    balance: int
    tier: LoyaltyTier
    lifetime_points: int


class InteractionBrief(BaseModel):
    id: int
    channel: InteractionChannel
    kind: InteractionKind
    subject: str
    order_id: int | None
    created_at: Moment


class Customer360(BaseModel):
    profile: CustomerOut
    orders: OrdersSummary
    returns: ReturnsSummary
    payments: PaymentsSummary
    fraud: FraudSummary
    loyalty: LoyaltySummary
    open_warranty_claims: int
    open_interactions: list[InteractionBrief] = Field(
        description="Questions and complaints with no follow-up after them."
    )


@tool(agent="customers", path="/customers/{customer_id}/360")
def customer_360(
    ctx: ToolContext,
    customer_id: CustomerId,
    recent: Annotated[
        int, Field(ge=1, le=50, description="How many recent items to list per section.")
    ] = 5,
) -> Customer360:
    """Everything about one customer at once: profile; orders (count, lifetime value as
    captured minus refunded, last orders); returns; payments, saved methods and refunds; fraud
    checks and active blocks; loyalty balance and tier; open warranty claims; and questions or
    complaints not followed up yet. Use it before answering a customer or deciding on a
    return, a refund or a block."""
    session = ctx.session
    customer = get_or_404(session, Customer, customer_id)
    return Customer360(
        profile=customer_out(customer),
        orders=_orders(ctx, customer_id, recent),
        returns=_returns(ctx, customer_id, recent),
        payments=_payments(ctx, customer_id, recent),
        fraud=_fraud(ctx, customer, recent),
        loyalty=LoyaltySummary(
            balance=customer.loyalty_points,
            tier=customer.loyalty_tier,
            lifetime_points=lifetime_points(session, customer_id),
        ),
        open_warranty_claims=session.exec(
            select(func.count())
            .select_from(WarrantyClaim)
            .where(
                WarrantyClaim.customer_id == customer_id,
                col(WarrantyClaim.status).in_([WarrantyStatus.SUBMITTED, WarrantyStatus.APPROVED]),
            )
        ).one(),
        open_interactions=_open_interactions(ctx, customer_id),
    )


def _orders(ctx: ToolContext, customer_id: int, recent: int) -> OrdersSummary:
    session = ctx.session
    of_customer = col(Order.customer_id) == customer_id
    status = col(Order.status)
    count, paid, cancelled, returned, first, last = session.execute(
        sa.select(
            func.count(),
            func.count().filter(status.in_(SOLD_STATUSES)),
            func.count().filter(status == OrderStatus.CANCELLED),
            func.count().filter(status == OrderStatus.RETURNED),
            func.min(Order.placed_at),
            func.max(Order.placed_at),
        ).where(of_customer)
    ).one()
    captured, refunded = _money(ctx, customer_id)
    last_orders = session.exec(
        select(Order)
        .where(of_customer)
        .order_by(col(Order.placed_at).desc(), col(Order.id).desc())
        .limit(recent)
    ).all()
    value = captured - refunded
    return OrdersSummary(
        count=count,
        paid_count=paid,
        cancelled_count=cancelled,
        returned_count=returned,
        lifetime_value_cents=value,
        average_order_cents=round(value / paid) if paid else None,
        first_order_at=first,
        last_order_at=last,
        last_orders=[OrderBrief.model_validate(o, from_attributes=True) for o in last_orders],
    )


def _money(ctx: ToolContext, customer_id: int) -> tuple[int, int]:
    captured, refunded = ctx.session.exec(
        select(
            func.coalesce(func.sum(Payment.captured_cents), 0),
            func.coalesce(func.sum(Payment.refunded_cents), 0),
        )
        .join(Order, col(Order.id) == Payment.order_id)
        .where(Order.customer_id == customer_id)
    ).one()
    return int(captured), int(refunded)


def _returns(ctx: ToolContext, customer_id: int, recent: int) -> ReturnsSummary:
    session = ctx.session
    of_customer = col(ReturnRequest.customer_id) == customer_id
    count, open_count, refunded = session.exec(
        select(
            func.count(),
            func.count().filter(col(ReturnRequest.status).in_(OPEN_RETURNS)),
            func.coalesce(
                func.sum(ReturnRequest.refund_cents).filter(
                    col(ReturnRequest.status) == ReturnStatus.REFUNDED
                ),
                0,
            ),
        ).where(of_customer)
    ).one()
    rows = session.exec(
        select(ReturnRequest)
        .where(of_customer)
        .order_by(col(ReturnRequest.id).desc())
        .limit(recent)
    ).all()
    return ReturnsSummary(
        count=count,
        open_count=open_count,
        refunded_cents=int(refunded),
        recent=[ReturnBrief.model_validate(r, from_attributes=True) for r in rows],
    )


def _payments(ctx: ToolContext, customer_id: int, recent: int) -> PaymentsSummary:
    session = ctx.session
    captured, refunded = _money(ctx, customer_id)
    failed = session.exec(
        select(func.count())
        .select_from(Payment)
        .join(Order, col(Order.id) == Payment.order_id)
        .where(Order.customer_id == customer_id, Payment.status == PaymentStatus.FAILED)
    ).one()
    methods = session.exec(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(col(PaymentMethod.id))
    ).all()
    refunds = session.exec(
        select(Refund)
        .join(Order, Order.id == Refund.order_id)  # type: ignore[arg-type]
        .where(Order.customer_id == customer_id)
        .order_by(col(Refund.id).desc())
        .limit(recent)
    ).all()
    return PaymentsSummary(
        captured_cents=captured,
        refunded_cents=refunded,
        failed_payments=failed,
        payment_methods=[
            " ".join(
                part
                for part in (
                    m.kind.value,
                    m.brand or "",
                    f"****{m.last4}" if m.last4 else "",
                    "(default)" if m.is_default else "",
                )
                if part
            )
            for m in methods
        ],
        recent_refunds=[RefundBrief.model_validate(r, from_attributes=True) for r in refunds],
    )


def _fraud(ctx: ToolContext, customer: Customer, recent: int) -> FraudSummary:
    session = ctx.session
    customer_id = customer.id
    # The ids themselves, not a subquery: PostgreSQL cannot use the order_id index for an
    # IN (subquery) under an OR, and scanned every fraud check instead.
    order_ids = session.exec(select(Order.id).where(Order.customer_id == customer_id)).all()
    about_customer = sa.or_(
        col(FraudCheck.customer_id) == customer_id, col(FraudCheck.order_id).in_(order_ids)
    )
    count, highest, flagged = session.exec(
        select(
            func.count(),
            func.max(FraudCheck.score),
            func.count().filter(col(FraudCheck.decision) != FraudDecision.ALLOW),
        ).where(about_customer)
    ).one()
    checks = session.exec(
        select(FraudCheck).where(about_customer).order_by(col(FraudCheck.id).desc()).limit(recent)
    ).all()
    ips = {
        ip
        for ip in session.exec(
            select(Order.ip_address).where(
                Order.customer_id == customer_id,
                col(Order.ip_address).is_not(None),
            )
        ).all()
        if ip
    }
    cards = {
        fp
        for fp in session.exec(
            select(PaymentMethod.fingerprint).where(PaymentMethod.customer_id == customer_id)
        ).all()
        if fp
    }
    kind, value = col(BlockedEntity.kind), col(BlockedEntity.value)
    wanted = [
        sa.and_(kind == BlockedEntityKind.CUSTOMER, value == str(customer_id)),
        sa.and_(kind == BlockedEntityKind.EMAIL, func.lower(value) == customer.email.lower()),
    ]
    if ips:
        wanted.append(sa.and_(kind == BlockedEntityKind.IP, value.in_(ips)))
    if cards:
        wanted.append(sa.and_(kind == BlockedEntityKind.CARD_FINGERPRINT, value.in_(cards)))
    expires = col(BlockedEntity.expires_at)
    blocks = session.exec(
        select(BlockedEntity)
        .where(sa.or_(*wanted), col(BlockedEntity.unblocked_at).is_(None))
        .where(sa.or_(expires.is_(None), expires > utc_now()))
        .order_by(col(BlockedEntity.id))
    ).all()
    return FraudSummary(
        checks=count,
        highest_score=highest,
        flagged_or_worse=flagged,
        recent_checks=[FraudCheckBrief.model_validate(c, from_attributes=True) for c in checks],
        active_blocks=[BlockBrief.model_validate(b, from_attributes=True) for b in blocks],
    )


def _open_interactions(ctx: ToolContext, customer_id: int) -> list[InteractionBrief]:
    """Questions and complaints not followed up: a follow-up closes the earlier ones on its
    order, or all earlier ones when it names no order."""
    rows = ctx.session.exec(
        select(Interaction)
        .where(Interaction.customer_id == customer_id)
        .order_by(col(Interaction.created_at), col(Interaction.id))
    ).all()
    pending: list[Interaction] = []
    for row in rows:
        if row.kind == InteractionKind.FOLLOW_UP:
            pending = [
                p for p in pending if row.order_id is not None and p.order_id != row.order_id
            ]
        elif row.kind in (InteractionKind.QUESTION, InteractionKind.COMPLAINT):
            pending.append(row)
    return [InteractionBrief.model_validate(p, from_attributes=True) for p in reversed(pending)]
