"""Tools of the payments agent: gateways, stored cards, authorize, capture and void through
the provider (the sandbox in test mode), transactions; refunds and analytics live in
payments_refunds and payments_analytics, imported here so they register with this module.
"""

import hashlib
from typing import Annotated

from pydantic import Field
from sqlmodel import Session, func, select

from db.base import utc_now
from db.models import (
    Customer,
    GatewayMode,
    Order,
    OrderStatus,
    Payment,
    PaymentGateway,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    SalesChannel,
)
from tools.base import Conflict, InvalidInput, ProviderError, ToolContext, tool
from tools.common import Cursor, Limit, Page, euros, get_or_404, paginate
from tools.orders import lock_order, transition
from tools.payment_gateway import (
    ACCEPTED_NETWORKS,
    PaymentSource,
    card_digits,
    card_network,
    gateway_client,
    luhn_valid,
)
from tools.payments_analytics import PaymentAnalytics, payment_analytics
from tools.payments_core import (
    CARD_GATEWAY,
    COLLECTED,
    CardNumber,
    CustomerId,
    GatewayOut,
    IdempotencyKey,
    MethodId,
    OrderId,
    PaymentId,
    PaymentMethodOut,
    PaymentOut,
    RefundOut,
    TransactionOut,
    idempotent,
    lock_payment,
    payment_out,
    record_payment,
    refund_out,
    void_hold,
)
from tools.payments_refunds import refund_order, refund_payment

__all__ = [
    "PaymentAnalytics",
    "PaymentOut",
    "RefundOut",
    "TransactionOut",
    "payment_analytics",
    "refund_order",
    "refund_payment",
]

# -- gateways and payment methods -------------------------------------------------------------


@tool(agent="payments", path="/payments/gateways")
def list_gateways(
    ctx: ToolContext,
    active_only: Annotated[bool, Field(description="Only gateways taking payments.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[GatewayOut]:
    """List the payment gateways (cards, PayPal, SEPA, marketplace-collected) with their mode
    (test or live) and their fees."""
    statement = select(PaymentGateway)
    if active_only:
        statement = statement.where(PaymentGateway.is_active)
    rows, next_cursor = paginate(
        ctx.session, statement, PaymentGateway.id, limit, cursor, descending=False
    )
    items = [
        GatewayOut.model_validate(
            {**g.model_dump(), "sandbox": g.mode == GatewayMode.TEST}, from_attributes=True
        )
        for g in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


@tool(agent="payments", path="/payments/methods", writes=True)
def add_payment_method(
    ctx: ToolContext,
    customer_id: CustomerId,
    card_number: Annotated[
        str, Field(min_length=12, max_length=30, description="The card number (spaces allowed).")
    ],
    exp_month: Annotated[int, Field(ge=1, le=12, description="Expiry month, 1-12.")],
    exp_year: Annotated[int, Field(ge=2000, le=2100, description="Expiry year, e.g. 2028.")],
    make_default: Annotated[bool, Field(description="Make it the default method.")] = False,
) -> PaymentMethodOut:
    """Store a customer's card: the number is checked (Luhn, accepted brand: Visa, Mastercard
    and CB, Amex), the expiry must not be past, and the provider turns it into a token. Only
    the brand, the last four digits, the expiry and a fingerprint are kept, never the number.
    In test mode only test cards are accepted."""
    session = ctx.session
    customer = get_or_404(session, Customer, customer_id)
    digits = card_digits(card_number)
    if not luhn_valid(digits):
        raise InvalidInput(
            "this card number fails the Luhn check: a digit is probably mistyped",
            field="card_number",
        )
    network = card_network(digits)
    if network not in ACCEPTED_NETWORKS:
        raise InvalidInput(
            f"{network} cards are not accepted; Visa, Mastercard (CB included) and Amex are",
            field="card_number",
        )
    today = utc_now()
    if (exp_year, exp_month) < (today.year, today.month):
        raise InvalidInput(f"the card expired in {exp_month:02d}/{exp_year}", field="exp_year")
    if exp_year > today.year + 20:
        raise InvalidInput(f"an expiry in {exp_year} is not plausible", field="exp_year")
    gateway = _card_gateway(session)
    token = gateway_client(session, gateway).tokenize_card(digits, exp_month, exp_year)
    from tools.fraud import blocked_reason

    if blocked_reason(
        session,
        customer_id=customer_id,
        email=customer.email,
        ip=None,
        card_fingerprint=token.fingerprint,
    ):
        raise Conflict(
            "this card cannot be added: a blocked customer, e-mail or card matched; escalate to "
            "a manager and do not tell the customer why",
            code="blocked",
        )
    methods = session.exec(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id).with_for_update()
    ).all()
    same = next((m for m in methods if m.fingerprint == token.fingerprint), None)
    if same is not None:
        raise Conflict(
            f"this card is already stored for customer {customer_id} as payment method {same.id}",
            field="card_number",
        )
    is_default = make_default or not methods
    for other in methods:
        if is_default and other.is_default:
            other.is_default = False
            session.add(other)
    method = PaymentMethod(
        customer_id=customer_id,
        gateway_id=gateway.id or 0,
        kind=PaymentMethodKind.CARD,
        brand=token.brand,
        last4=token.last4,
        exp_month=exp_month,
        exp_year=exp_year,
        fingerprint=token.fingerprint,
        is_default=is_default,
        created_at=today,
    )
    session.add(method)
    session.flush()
    out = PaymentMethodOut.model_validate(method, from_attributes=True)
    ctx.record(
        action="add_payment_method",
        entity_type="payment_method",
        entity_id=method.id,
        event="payment_method_added",
        domain="payments",
        after=out.model_dump(mode="json"),
    )
    return out


@tool(agent="payments", path="/payments/customers/{customer_id}/methods")
def list_payment_methods(
    ctx: ToolContext, customer_id: CustomerId, limit: Limit = 50, cursor: Cursor = None
) -> Page[PaymentMethodOut]:
    """List a customer's stored payment methods: kind, card brand, last four digits, expiry,
    fingerprint and which one is the default."""
    get_or_404(ctx.session, Customer, customer_id)
    rows, next_cursor = paginate(
        ctx.session,
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id),
        PaymentMethod.id,
        limit,
        cursor,
        descending=False,
    )
    items = [PaymentMethodOut.model_validate(m, from_attributes=True) for m in rows]
    return Page(items=items, next_cursor=next_cursor)


# -- authorize, capture, process, void ------------------------------------------------------


@tool(agent="payments", path="/payments/authorize", writes=True)
def authorize_payment(
    ctx: ToolContext,
    order_id: OrderId,
    idempotency_key: IdempotencyKey,
    payment_method_id: MethodId = None,
    card_number: CardNumber = None,
) -> PaymentOut:
    """Authorize (hold) the balance due of a pending shop order on a stored payment method or a
    test card. The amount is always the order's total minus what is already captured or held,
    never an amount from the caller. A decline is recorded as a failed payment with the
    provider's code (card_declined, insufficient_funds...); capture the hold with
    capture_payment. The same key replays the first answer (a decline too): a new attempt
    needs a new key."""
    request = {"order_id": order_id, "method": payment_method_id, "card": _masked(card_number)}

    def run() -> PaymentOut:
        payment, message = _authorize(
            ctx, order_id, payment_method_id, card_number, idempotency_key
        )
        return payment_out(ctx.session, payment, message)

    return idempotent(ctx, "authorize_payment", idempotency_key, request, PaymentOut, run)


@tool(agent="payments", path="/payments/transactions/{payment_id}/capture", writes=True)
def capture_payment(
    ctx: ToolContext,
    payment_id: PaymentId,
    idempotency_key: IdempotencyKey,
    amount_cents: Annotated[
        int | None, Field(ge=1, description="Capture only this much; default: all of the hold.")
    ] = None,
) -> PaymentOut:
    """Capture all or part of an authorized payment (once; the rest of the hold is released).
    When the order's captures cover its total, the order becomes paid and the customer earns
    loyalty points."""
    request = {"payment_id": payment_id, "amount_cents": amount_cents}

    def run() -> PaymentOut:
        payment, message = _capture(ctx, payment_id, amount_cents, idempotency_key)
        return payment_out(ctx.session, payment, message)

    return idempotent(ctx, "capture_payment", idempotency_key, request, PaymentOut, run)


@tool(agent="payments", path="/payments/process", writes=True)
def process_payment(
    ctx: ToolContext,
    order_id: OrderId,
    idempotency_key: IdempotencyKey,
    payment_method_id: MethodId = None,
    card_number: CardNumber = None,
) -> PaymentOut:
    """Charge a pending shop order in one step: authorize its balance due on a stored payment
    method or a test card, then capture it; the order becomes paid and the customer earns
    loyalty points. A decline is recorded as a failed payment and the order stays pending. The
    same key replays the first answer (a decline too): a new attempt needs a new key."""
    request = {"order_id": order_id, "method": payment_method_id, "card": _masked(card_number)}

    def run() -> PaymentOut:
        payment, message = _authorize(
            ctx, order_id, payment_method_id, card_number, f"{idempotency_key}:authorize"
        )
        if payment.status == PaymentStatus.AUTHORIZED:
            payment, message = _capture(ctx, payment.id or 0, None, f"{idempotency_key}:capture")
        return payment_out(ctx.session, payment, message)

    return idempotent(ctx, "process_payment", idempotency_key, request, PaymentOut, run)


@tool(
    agent="payments",
    path="/payments/transactions/{payment_id}/void",
    writes=True,
    approval=True,
)
def void_payment(
    ctx: ToolContext,
    payment_id: PaymentId,
    reason: Annotated[str, Field(min_length=3, max_length=200, description="Why.")],
) -> PaymentOut:
    """Release an authorized payment that was not captured (the hold disappears from the
    customer's card). Captured payments are refunded instead."""
    _, payment = lock_payment(ctx.session, payment_id)
    if payment.status != PaymentStatus.AUTHORIZED:
        raise Conflict(
            f"payment {payment_id} is {payment.status.value}; only an authorized payment is "
            "voided (refund a captured one)"
        )
    return payment_out(ctx.session, payment, void_hold(ctx, payment, f"void-{payment_id}", reason))


# -- reading ------------------------------------------------------------------------------------


@tool(agent="payments", path="/payments/transactions/{payment_id}")
def get_transaction(ctx: ToolContext, payment_id: PaymentId) -> TransactionOut:
    """Get a payment (transaction) with its status, amounts authorized, captured, refunded and
    still refundable, fees, provider reference, decline reason and its refunds."""
    payment = get_or_404(ctx.session, Payment, payment_id, "payment")
    refunds = ctx.session.exec(
        select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)  # type: ignore[arg-type]
    ).all()
    out = payment_out(ctx.session, payment, None)
    return TransactionOut(**out.model_dump(), refunds=[refund_out(r, "") for r in refunds])


@tool(agent="payments", path="/payments/orders/{order_id}/transactions")
def list_order_payments(
    ctx: ToolContext, order_id: OrderId, limit: Limit = 50, cursor: Cursor = None
) -> Page[PaymentOut]:
    """List an order's payment attempts, oldest first: authorized, captured, failed (with the
    decline reason), voided, refunded."""
    get_or_404(ctx.session, Order, order_id)
    rows, next_cursor = paginate(
        ctx.session,
        select(Payment).where(Payment.order_id == order_id),
        Payment.id,
        limit,
        cursor,
        descending=False,
    )
    return Page(items=[payment_out(ctx.session, p, None) for p in rows], next_cursor=next_cursor)


# -- internals ----------------------------------------------------------------------------------


def _authorize(
    ctx: ToolContext, order_id: int, method_id: int | None, card_number: str | None, key: str
) -> tuple[Payment, str]:
    from tools.fraud import blocked_reason

    session = ctx.session
    order = lock_order(session, order_id)
    if order.channel != SalesChannel.SHOP:
        raise Conflict(
            f"order {order_id} came from {order.channel.value}: the marketplace collected its "
            "payment; nothing to charge here"
        )
    if order.status != OrderStatus.PENDING:
        raise Conflict(
            f"order {order_id} is {order.status.value}; only a pending order takes a payment"
        )
    payments = session.exec(select(Payment).where(Payment.order_id == order_id)).all()
    held = [p for p in payments if p.status == PaymentStatus.AUTHORIZED]
    due = (
        order.total_cents
        - sum(p.captured_cents for p in payments if p.status in COLLECTED)
        - sum(p.amount_cents for p in held)
    )
    if due <= 0:
        hint = f"; capture payment {held[0].id}" if held else ""
        raise Conflict(f"order {order_id} is already covered by its payments{hint}")
    gateway, source = _source(session, order, method_id, card_number)
    client = gateway_client(session, gateway)
    customer = get_or_404(session, Customer, order.customer_id)
    now = utc_now()
    payment = Payment(
        order_id=order_id,
        gateway_id=gateway.id or 0,
        payment_method_id=method_id,
        amount_cents=due,
        currency=order.currency,
        created_at=now,
        updated_at=now,
    )
    reason = blocked_reason(
        session,
        customer_id=customer.id,
        email=customer.email,
        ip=order.ip_address,
        card_fingerprint=source.fingerprint,
    )
    if reason:
        payment.status, payment.failure_code = PaymentStatus.FAILED, "blocked"
        payment.failure_message = f"Refused by Comptoir, not sent to the provider: {reason}"[:200]
        message = (
            "Refused: a blocked customer, e-mail, IP address or card matched. Escalate to a "
            "manager; never tell the customer it is a block."
        )
    else:
        response = client.authorize(
            amount_cents=due, currency=order.currency, source=source, idempotency_key=key
        )
        payment.provider_reference, message = response.reference, response.message
        if response.ok:
            payment.status, payment.authorized_at = PaymentStatus.AUTHORIZED, now
        else:
            payment.status, payment.failure_code = PaymentStatus.FAILED, response.code
            payment.failure_message = response.message[:200]
    session.add(payment)
    session.flush()
    ok = payment.status == PaymentStatus.AUTHORIZED
    record_payment(
        ctx, payment, "authorize_payment", "payment_authorized" if ok else "payment_failed"
    )
    return payment, message


def _capture(
    ctx: ToolContext, payment_id: int, amount_cents: int | None, key: str
) -> tuple[Payment, str]:
    session = ctx.session
    order, payment = lock_payment(session, payment_id)
    status = PaymentStatus(payment.status)
    if status != PaymentStatus.AUTHORIZED:
        hint = {
            PaymentStatus.PENDING: "it waits for a bank transfer",
            PaymentStatus.FAILED: "authorize the order again",
            PaymentStatus.VOIDED: "its authorization was released; authorize again",
        }.get(status, "it was already captured")
        raise Conflict(f"payment {payment_id} is {status.value}; {hint}")
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(f"order {order.id} is cancelled; void payment {payment_id} instead")
    amount = amount_cents or payment.amount_cents
    if amount > payment.amount_cents:
        raise Conflict(
            f"payment {payment_id} holds {euros(payment.amount_cents)}; "
            f"{euros(amount)} cannot be captured",
            field="amount_cents",
        )
    gateway = get_or_404(session, PaymentGateway, payment.gateway_id)
    response = gateway_client(session, gateway, new_payment=False).capture(
        reference=payment.provider_reference or "", amount_cents=amount, idempotency_key=key
    )
    now = utc_now()
    payment.updated_at = now
    if not response.ok:
        payment.status, payment.failure_code = PaymentStatus.VOIDED, response.code
        payment.failure_message = response.message[:200]
        session.add(payment)
        record_payment(ctx, payment, "capture_payment", "payment_failed")
        return payment, response.message
    payment.status, payment.captured_cents, payment.captured_at = (
        PaymentStatus.CAPTURED,
        amount,
        now,
    )
    payment.fee_cents = response.fee_cents
    session.add(payment)
    session.flush()
    record_payment(ctx, payment, "capture_payment", "payment_captured")
    collected = session.exec(
        select(func.coalesce(func.sum(Payment.captured_cents), 0)).where(
            Payment.order_id == order.id,
            Payment.status.in_(COLLECTED),  # type: ignore[attr-defined]
        )
    ).one()
    if order.status == OrderStatus.PENDING and collected >= order.total_cents:
        from tools.customers import earn_points_for_order

        transition(ctx, order, OrderStatus.PAID, f"payment {payment_id} captured")
        earn_points_for_order(ctx, order)
    return payment, response.message


def _source(
    session: Session, order: Order, method_id: int | None, card_number: str | None
) -> tuple[PaymentGateway, PaymentSource]:
    if (method_id is None) == (card_number is None):
        raise InvalidInput(
            "give either payment_method_id (a stored method) or card_number (a test card)",
            field="payment_method_id",
        )
    if method_id is not None:
        method = get_or_404(session, PaymentMethod, method_id, "payment method")
        if method.customer_id != order.customer_id:
            raise InvalidInput(
                f"payment method {method_id} belongs to customer {method.customer_id}, not to "
                f"customer {order.customer_id} of order {order.id}",
                field="payment_method_id",
            )
        return get_or_404(session, PaymentGateway, method.gateway_id), PaymentSource(method=method)
    digits = card_digits(card_number or "")
    if not luhn_valid(digits):
        raise InvalidInput("this card number fails the Luhn check", field="card_number")
    return _card_gateway(session), PaymentSource(card_digits=digits)


def _card_gateway(session: Session) -> PaymentGateway:
    gateway = session.exec(
        select(PaymentGateway).where(PaymentGateway.code == CARD_GATEWAY)
    ).first()
    if gateway is None:
        raise ProviderError(f"no card gateway ({CARD_GATEWAY}) is configured")
    return gateway


def _masked(card_number: str | None) -> str | None:
    """What the idempotency hash keeps of a card number: its fingerprint, not the number."""
    if card_number is None:
        return None
    return hashlib.sha256(card_number.replace(" ", "").replace("-", "").encode()).hexdigest()
