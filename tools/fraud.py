"""Tools of the fraud agent: scores explained signal by signal, and the block list.

Every signal comes from rows the database holds (orders, addresses, payment methods, payment
attempts, blocks), never from what a caller asserts. Thresholds are the merchant's settings
fraud.block_threshold, fraud.review_threshold and fraud.flag_threshold.
"""

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from db.base import as_utc, utc_now
from db.models import (
    AddressKind,
    BlockedEntity,
    BlockedEntityKind,
    Customer,
    FraudCheck,
    FraudDecision,
    Order,
    Payment,
    PaymentMethod,
    PaymentStatus,
    SalesChannel,
)
from tools.base import MANAGERS, Conflict, NotFound, ToolContext, tool
from tools.common import Cursor, Limit, Page, euros, get_or_404, paginate
from tools.fraud_signals import (
    DAY,
    account_signals,
    active_blocks,
    address_signal,
    blocked_signal,
    decide,
    declines_signal,
    default_address,
    fraud_thresholds,
    identifiers,
    in_force,
    label,
    matching,
    method_signal,
    normalize_entity,
    shared_ip_signal,
)

IP_BLOCK_DEFAULT_DAYS = 7

OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]
CustomerId = Annotated[int, Field(ge=1, description="Id of the customer.")]
Kind = Annotated[
    BlockedEntityKind,
    Field(description="What to block: customer (an id), email, ip, or card_fingerprint."),
]
Value = Annotated[
    str,
    Field(
        min_length=1,
        max_length=254,
        description="The customer id, e-mail address, IP address or card fingerprint.",
    ),
]


class SignalOut(BaseModel):
    signal: str
    weight: int = Field(description="Points this signal adds to the score.")
    detail: str


class FraudCheckOut(BaseModel):
    id: int
    order_id: int | None
    customer_id: int | None
    score: int = Field(description="0 to 100: the sum of the signals' weights, capped at 100.")
    decision: FraudDecision
    signals: list[SignalOut]
    explanation: str
    checked_by: str
    created_at: datetime


class BlockOut(BaseModel):
    id: int
    kind: BlockedEntityKind
    value: str
    reason: str
    blocked_by: str
    created_at: datetime
    expires_at: datetime | None
    unblocked_at: datetime | None
    unblocked_by: str | None
    active: bool


class FraudHistory(Page[FraudCheckOut]):
    """A customer's fraud checks (newest first, paged) with every block that concerns them."""

    customer_id: int
    email: str
    blocks: list[BlockOut] = Field(description="Blocks on the customer, their e-mail, IPs, cards.")
    failed_payments: int
    orders_cancelled_for_fraud: int


# -- shared functions (contract) --------------------------------------------------------------


def blocked_reason(
    session: Session,
    *,
    customer_id: int | None,
    email: str | None,
    ip: str | None,
    card_fingerprint: str | None,
) -> str | None:
    """Why these identifiers may not order or pay (an active block matches), or None."""
    wanted = identifiers(
        customer_id, email, [ip] if ip else [], [card_fingerprint] if card_fingerprint else []
    )
    if not wanted:
        return None
    block = session.exec(active_blocks(wanted).order_by(BlockedEntity.id)).first()  # type: ignore[arg-type]
    if block is None:
        return None
    return f"{label(block)} is blocked since {as_utc(block.created_at):%Y-%m-%d}: {block.reason}"


def score_order(ctx: ToolContext, order: Order) -> FraudCheck:
    """Score an order from the database's signals and store the check (event included)."""
    session = ctx.session
    customer = get_or_404(session, Customer, order.customer_id)
    placed = as_utc(order.placed_at)
    shop = order.channel == SalesChannel.SHOP
    signals: list[tuple[str, int, str]] = []

    methods = session.exec(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
    ).all()
    fingerprints = [m.fingerprint for m in methods if m.fingerprint]
    ips = [order.ip_address] if order.ip_address else []
    signals += blocked_signal(session, customer, ips, fingerprints)

    past = session.exec(
        select(Order.placed_at, Order.total_cents).where(
            Order.customer_id == customer.id, Order.id != order.id, Order.placed_at <= placed
        )
    ).all()
    total = order.total_cents
    if past:
        average = sum(amount for _, amount in past) / len(past)
        if total > 3 * average and total > 30000:
            signals.append(
                (
                    "amount_vs_history",
                    25,
                    f"{euros(total)} is {total / max(average, 1):.1f}x the customer's average of "
                    f"{euros(round(average))} over {len(past)} earlier order(s)",
                )
            )
    elif total > 100000:
        signals.append(("large_first_order", 20, f"first order, of {euros(total)}"))
    recent = sum(1 for at, _ in past if placed - as_utc(at) < DAY)
    if recent >= 2:
        signals.append(("velocity_24h", 25, f"{recent + 1} orders from this account in 24 hours"))
    signals += address_signal(session, order.billing_address_id, order.shipping_address_id)
    signals += account_signals(customer, placed, "the order")
    if order.ip_address:
        signals += shared_ip_signal(session, order.customer_id, [order.ip_address], placed)
    if shop:  # marketplaces carry the payment risk: no card signals for their orders
        window = (placed - DAY, min(placed + DAY, utc_now()))
        signals += method_signal(methods, window, "the order")
        signals += declines_signal(session, order.customer_id, window)
    return _store(ctx, order.id, order.customer_id, signals)


# -- tools ------------------------------------------------------------------------------------


@tool(agent="fraud", path="/fraud/orders/{order_id}/check", writes=True)
def check_order_fraud(ctx: ToolContext, order_id: OrderId) -> FraudCheckOut:
    """Score an order for fraud (0-100) from what the database holds: amount against the
    customer's history, orders in the last 24 hours, billing/shipping mismatch, account age,
    payment methods added around the order, declined payments, blocked entities and IP
    addresses shared with other accounts. Each signal is listed with its weight and detail; the
    decision follows the merchant's thresholds (block, review, flag, allow). The check is stored."""
    order = get_or_404(ctx.session, Order, order_id)
    return _out(score_order(ctx, order), fraud_thresholds(ctx.session))


@tool(agent="fraud", path="/fraud/customers/{customer_id}/check", writes=True)
def check_customer_fraud(ctx: ToolContext, customer_id: CustomerId) -> FraudCheckOut:
    """Score a customer account for fraud as of now, without a particular order: blocked
    customer, e-mail, IPs or cards, orders in the last 24 hours, billing/shipping mismatch,
    account age, payment methods added and payments declined in the last 24 hours, IPs shared
    with other accounts and earlier checks that ended in review or block. Stored as a check."""
    session = ctx.session
    customer = get_or_404(session, Customer, customer_id)
    now = utc_now()
    methods = session.exec(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)
    ).all()
    ips = [
        ip
        for ip in session.exec(
            select(Order.ip_address).where(Order.customer_id == customer_id).distinct()
        ).all()
        if ip
    ]
    signals = blocked_signal(
        session, customer, ips, [m.fingerprint for m in methods if m.fingerprint]
    )
    recent = session.exec(
        select(func.count())
        .select_from(Order)
        .where(
            Order.customer_id == customer_id, Order.placed_at >= now - DAY, Order.placed_at <= now
        )
    ).one()
    if recent >= 3:
        signals.append(
            ("velocity_24h", 25, f"{recent} orders from this account in the last 24 hours")
        )
    billing = default_address(session, customer_id, AddressKind.BILLING)
    shipping = default_address(session, customer_id, AddressKind.SHIPPING)
    if billing and shipping:
        signals += address_signal(session, billing, shipping)
    signals += account_signals(customer, now, "now")
    signals += shared_ip_signal(session, customer_id, ips, now)
    signals += method_signal(methods, (now - DAY, now), "now")
    signals += declines_signal(session, customer_id, (now - DAY, now))
    earlier = session.exec(
        select(func.count())
        .select_from(FraudCheck)
        .where(
            FraudCheck.customer_id == customer_id,
            FraudCheck.decision.in_([FraudDecision.REVIEW, FraudDecision.BLOCK]),  # type: ignore[attr-defined]
        )
    ).one()
    if earlier:
        signals.append(
            ("past_fraud_decisions", 15, f"{earlier} earlier check(s) ended in review or block")
        )
    return _out(_store(ctx, None, customer_id, signals), fraud_thresholds(session))


def _already_blocked(block: BlockedEntity) -> Conflict:
    return Conflict(
        f"{label(block)} is already blocked (block {block.id}, since "
        f"{as_utc(block.created_at):%Y-%m-%d}: {block.reason})",
        field="value",
    )


def _live_blocks(kind: BlockedEntityKind, value: str) -> Any:
    """The blocks on this entity not lifted (some may have expired)."""
    return select(BlockedEntity).where(
        BlockedEntity.kind == kind,
        BlockedEntity.value == value,
        BlockedEntity.unblocked_at.is_(None),  # type: ignore[union-attr]
    )


def _blockable(
    ctx: ToolContext, kind: BlockedEntityKind, value: str, reason: str, days: int | None = None
) -> None:
    value = normalize_entity(ctx.session, kind, value)
    now = utc_now()
    for old in ctx.session.exec(_live_blocks(kind, value)).all():
        if old.expires_at is None or as_utc(old.expires_at) > now:
            raise _already_blocked(old)


def _unblockable(ctx: ToolContext, kind: BlockedEntityKind, value: str, reason: str) -> None:
    value = normalize_entity(ctx.session, kind, value, must_exist=False)
    if ctx.session.exec(_live_blocks(kind, value)).first() is None:
        raise NotFound(f"{kind.value} {value} is not blocked", field="value")


@tool(
    agent="fraud",
    path="/fraud/blocks",
    writes=True,
    approval=True,
    roles=MANAGERS,
    precheck=_blockable,
)
def block_entity(
    ctx: ToolContext,
    kind: Kind,
    value: Value,
    reason: Annotated[
        str, Field(min_length=3, max_length=300, description="Why, with the order numbers.")
    ],
    days: Annotated[
        int | None,
        Field(
            ge=1,
            le=3650,
            description="Block for this many days; IP addresses default to 7, the other kinds "
            "stay blocked until unblocked.",
        ),
    ] = None,
) -> BlockOut:
    """Block a customer account, an e-mail address, an IP address or a card fingerprint: it can
    no longer order or pay, and it weighs 80 points in every fraud score that matches it. Use it
    for confirmed fraud; IP blocks are temporary (7 days unless told)."""
    session = ctx.session
    value = normalize_entity(session, kind, value)
    now = utc_now()
    for old in session.exec(_live_blocks(kind, value).with_for_update()).all():
        if old.expires_at is not None and as_utc(old.expires_at) <= now:
            old.unblocked_at, old.unblocked_by = old.expires_at, "system:expiry"
            session.add(old)
            session.flush()
        else:
            raise _already_blocked(old)
    if days is None and kind == BlockedEntityKind.IP:
        days = IP_BLOCK_DEFAULT_DAYS
    block = BlockedEntity(
        kind=kind,
        value=value,
        reason=reason,
        blocked_by=ctx.actor.email,
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    try:
        with session.begin_nested():
            session.add(block)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"{kind.value} {value} was blocked at the same moment by someone else", field="value"
        ) from None
    ctx.record(
        action="block_entity",
        entity_type="blocked_entity",
        entity_id=block.id,
        event="entity_blocked",
        domain="fraud",
        after=_block_out(block).model_dump(mode="json"),
    )
    return _block_out(block)


@tool(
    agent="fraud",
    path="/fraud/blocks/unblock",
    writes=True,
    approval=True,
    roles=MANAGERS,
    precheck=_unblockable,
)
def unblock_entity(
    ctx: ToolContext,
    kind: Kind,
    value: Value,
    reason: Annotated[
        str, Field(min_length=3, max_length=300, description="Why it is lifted (kept in audit).")
    ],
) -> BlockOut:
    """Lift the block on a customer, e-mail, IP address or card fingerprint. Managers only; the
    block stays in the history with who lifted it, when and why."""
    session = ctx.session
    value = normalize_entity(session, kind, value, must_exist=False)
    block = session.exec(_live_blocks(kind, value).with_for_update()).first()
    if block is None:
        raise NotFound(f"{kind.value} {value} is not blocked", field="value")
    before = _block_out(block).model_dump(mode="json")
    block.unblocked_at, block.unblocked_by = utc_now(), ctx.actor.email
    session.add(block)
    ctx.record(
        action="unblock_entity",
        entity_type="blocked_entity",
        entity_id=block.id,
        event="entity_unblocked",
        domain="fraud",
        before=before,
        after={**_block_out(block).model_dump(mode="json"), "unblock_reason": reason},
    )
    return _block_out(block)


@tool(agent="fraud", path="/fraud/blocks")
def list_blocked_entities(
    ctx: ToolContext,
    kind: Annotated[BlockedEntityKind | None, Field(description="Only this kind.")] = None,
    active_only: Annotated[bool, Field(description="Only blocks in force now.")] = True,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[BlockOut]:
    """List the block list, newest first: blocked customers, e-mails, IPs and card fingerprints
    with who blocked them, when, why and until when; lifted blocks too with active_only false."""
    statement = select(BlockedEntity)
    if kind is not None:
        statement = statement.where(BlockedEntity.kind == kind)
    if active_only:
        statement = statement.where(*in_force(utc_now()))
    rows, next_cursor = paginate(ctx.session, statement, BlockedEntity.id, limit, cursor)
    return Page(items=[_block_out(b) for b in rows], next_cursor=next_cursor)


@tool(agent="fraud", path="/fraud/customers/{customer_id}/history")
def customer_fraud_history(
    ctx: ToolContext, customer_id: CustomerId, limit: Limit = 50, cursor: Cursor = None
) -> FraudHistory:
    """A customer's fraud history: every fraud check (newest first, paged) with its signals,
    every block on the account, its e-mail, the IPs of its orders and its cards (lifted ones
    included), its failed payments and its orders cancelled for fraud."""
    session = ctx.session
    customer = get_or_404(session, Customer, customer_id)
    rows, next_cursor = paginate(
        session,
        select(FraudCheck).where(FraudCheck.customer_id == customer_id),
        FraudCheck.id,
        limit,
        cursor,
    )
    ips = [
        ip
        for ip in session.exec(
            select(Order.ip_address).where(Order.customer_id == customer_id).distinct()
        ).all()
        if ip
    ]
    fingerprints = [
        f
        for f in session.exec(
            select(PaymentMethod.fingerprint).where(PaymentMethod.customer_id == customer_id)
        ).all()
        if f
    ]
    wanted = identifiers(customer_id, customer.email, ips, fingerprints)
    blocks = session.exec(
        select(BlockedEntity).where(matching(wanted)).order_by(BlockedEntity.id.desc())  # type: ignore[union-attr]
    ).all()
    failed = session.exec(
        select(func.count())
        .select_from(Payment)
        .join(Order, Order.id == Payment.order_id)  # type: ignore[arg-type]
        .where(Order.customer_id == customer_id, Payment.status == PaymentStatus.FAILED)
    ).one()
    cancelled = session.exec(
        select(func.count())
        .select_from(Order)
        .where(Order.customer_id == customer_id, func.lower(Order.cancel_reason).contains("fraud"))
    ).one()
    thresholds = fraud_thresholds(session)
    return FraudHistory(
        items=[_out(check, thresholds) for check in rows],
        next_cursor=next_cursor,
        customer_id=customer_id,
        email=customer.email,
        blocks=[_block_out(b) for b in blocks],
        failed_payments=failed,
        orders_cancelled_for_fraud=cancelled,
    )


# -- helpers ----------------------------------------------------------------------------------


def _store(
    ctx: ToolContext, order_id: int | None, customer_id: int, signals: list[tuple[str, int, str]]
) -> FraudCheck:
    score = min(100, sum(weight for _, weight, _ in signals))
    check = FraudCheck(
        order_id=order_id,
        customer_id=customer_id,
        score=score,
        decision=decide(score, fraud_thresholds(ctx.session)),
        signals=[{"signal": s, "weight": w, "detail": d} for s, w, d in signals],
        checked_by=ctx.actor.email,
        created_at=utc_now(),
    )
    ctx.session.add(check)
    ctx.session.flush()
    ctx.record(
        action="check_order_fraud" if order_id else "check_customer_fraud",
        entity_type="fraud_check",
        entity_id=check.id,
        event="fraud_check_completed",
        domain="fraud",
        payload={
            "fraud_check_id": check.id,
            "order_id": order_id,
            "customer_id": customer_id,
            "score": score,
            "decision": check.decision.value,
            "signals": [s for s, _, _ in signals],
        },
    )
    return check


def _out(check: FraudCheck, thresholds: dict[str, int]) -> FraudCheckOut:
    signals = [SignalOut.model_validate(s) for s in check.signals]
    parts = " + ".join(f"{s.signal} {s.weight}" for s in signals) or "no signal"
    explanation = (
        f"score {check.score} ({parts}) -> {FraudDecision(check.decision).value}; "
        f"thresholds now: block from {thresholds['block']}, review from {thresholds['review']}, "
        f"flag from {thresholds['flag']}"
    )
    return FraudCheckOut(
        id=check.id or 0,
        order_id=check.order_id,
        customer_id=check.customer_id,
        score=check.score,
        decision=check.decision,
        signals=signals,
        explanation=explanation,
        checked_by=check.checked_by,
        created_at=as_utc(check.created_at),
    )


def _block_out(block: BlockedEntity) -> BlockOut:
    now = utc_now()
    expires = as_utc(block.expires_at) if block.expires_at else None
    return BlockOut(
        id=block.id or 0,
        kind=block.kind,
        value=block.value,
        reason=block.reason,
        blocked_by=block.blocked_by,
        created_at=as_utc(block.created_at),
        expires_at=expires,
        unblocked_at=as_utc(block.unblocked_at) if block.unblocked_at else None,
        unblocked_by=block.unblocked_by,
        active=block.unblocked_at is None and (expires is None or expires > now),
    )
