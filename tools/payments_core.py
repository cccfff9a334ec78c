"""What the payments modules share: argument types, result models, idempotency keys, locking.

Every operation that moves money takes an idempotency key: the first response per
(operation, key) is kept with a hash of the request; the same key and request replay it with no
new effect, the same key with another request is a conflict (idempotency_key_reused).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.base import as_utc, utc_now
from db.models import (
    GatewayMode,
    IdempotencyRecord,
    Order,
    OrderStatus,
    Payment,
    PaymentGateway,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from tools.base import Conflict, NotFound, ToolContext
from tools.common import euros, get_or_404
from tools.orders import lock_order
from tools.payment_gateway import gateway_client

R = TypeVar("R")
KEEP_KEYS = timedelta(days=30)
CARD_GATEWAY = "sandbox_card"
REFUNDABLE = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED)
COLLECTED = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)

PaymentId = Annotated[int, Field(ge=1, description="Id of the payment (transaction).")]
OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]
CustomerId = Annotated[int, Field(ge=1, description="Id of the customer.")]
IdempotencyKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9._:/-]+$",
        description="A key unique to this business operation (e.g. 'refund-rma-123'); resend the "
        "same key when retrying it: the operation then happens once.",
    ),
]
MethodId = Annotated[
    int | None, Field(ge=1, description="A stored payment method of the order's customer.")
]
CardNumber = Annotated[
    str | None,
    Field(
        min_length=12,
        max_length=30,
        description="Instead of a stored method, a test card number: 4242 4242 4242 4242 is "
        "approved, 4000 0000 0000 0002 declined, 4000 0000 0000 9995 insufficient funds.",
    ),
]


class GatewayOut(BaseModel):
    id: int
    code: str
    name: str
    provider: str
    mode: GatewayMode
    is_active: bool
    fee_bp: int = Field(description="Percentage fee in basis points (140 = 1.4 %).")
    fee_fixed_cents: int
    sandbox: bool


class PaymentMethodOut(BaseModel):
    id: int
    customer_id: int
    gateway_id: int
    kind: PaymentMethodKind
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    fingerprint: str | None = Field(description="SHA-256 of the card number; never the number.")
    is_default: bool
    # Read from the row as it is stored: SQLite hands times back without their time zone.
    created_at: Annotated[datetime, AfterValidator(as_utc)]


class RefundOut(BaseModel):
    id: int
    payment_id: int
    order_id: int
    return_id: int | None
    amount_cents: int
    amount: str
    status: RefundStatus
    reason: str
    provider_reference: str | None
    created_by: str
    created_at: datetime
    message: str = ""
    replayed: bool = Field(
        default=False, description="True when a retried key replayed the first result."
    )


class PaymentOut(BaseModel):
    id: int
    order_id: int
    order_status: OrderStatus
    gateway: str
    payment_method_id: int | None
    card: str | None = Field(description="Brand and last four digits of a stored card.")
    status: PaymentStatus
    currency: str
    amount_cents: int = Field(description="Authorized amount: the order's balance due.")
    captured_cents: int
    refunded_cents: int
    refundable_cents: int
    fee_cents: int
    provider_reference: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: datetime
    authorized_at: datetime | None
    captured_at: datetime | None
    message: str = Field(description="What happened, as the provider said it.")
    sandbox: bool = Field(description="True in test mode: no real money moved.")
    replayed: bool = Field(
        default=False, description="True when a retried key replayed the first result."
    )


class TransactionOut(PaymentOut):
    refunds: list[RefundOut]


# -- idempotency ------------------------------------------------------------------------------


def idempotent(
    ctx: ToolContext,
    operation: str,
    key: str,
    request: dict[str, Any],
    result_type: Any,
    run: Callable[[], R],
    skip: Callable[[], R | None] | None = None,
) -> R:
    """Run `run` once per (operation, key); replay its stored result on a retry.

    `skip`, checked when the key is new, may return a result that needs no effect (and so no
    record). Concurrent first calls with one key queue on the unique (operation, key) index.
    """
    session = ctx.session
    adapter: TypeAdapter[Any] = TypeAdapter(result_type)
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
    record = lookup_key(session, operation, key, digest)
    if record is None and skip is not None and (nothing := skip()) is not None:
        return nothing
    if record is None:
        now = utc_now()
        record = IdempotencyRecord(
            operation=operation,
            key=key,
            request_hash=digest,
            response={},
            created_at=now,
            expires_at=now + KEEP_KEYS,
        )
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:  # a concurrent call with this key committed first
            record = lookup_key(session, operation, key, digest)
            if record is None:
                raise Conflict(
                    f"{operation} with key {key!r} is running elsewhere; retry in a moment",
                    field="idempotency_key",
                ) from None
    if record.response:
        return replayed(adapter.validate_python(record.response["result"]))
    result = run()
    record.response = {"result": adapter.dump_python(result, mode="json")}
    session.add(record)
    return result


def lookup_key(session: Session, operation: str, key: str, digest: str) -> IdempotencyRecord | None:
    record = session.exec(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.operation == operation, IdempotencyRecord.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if record is None:
        return None
    now = utc_now()
    if record.expires_at is not None and as_utc(record.expires_at) <= now:
        record.request_hash, record.response = digest, {}
        record.created_at, record.expires_at = now, now + KEEP_KEYS
        session.add(record)
        return record
    if record.request_hash != digest:
        raise Conflict(
            f"idempotency key {key!r} was already used for a different {operation} request; "
            "a retry must repeat the same arguments, a new operation needs a new key",
            field="idempotency_key",
            code="idempotency_key_reused",
        )
    return record


def replayed(result: Any) -> Any:
    for item in result if isinstance(result, list) else [result]:
        item.replayed = True
    return result


# -- shared by the payments modules ----------------------------------------------------------


def void_hold(ctx: ToolContext, payment: Payment, key: str, reason: str) -> str:
    session = ctx.session
    gateway = get_or_404(session, PaymentGateway, payment.gateway_id)
    response = gateway_client(session, gateway, new_payment=False).void(
        reference=payment.provider_reference or "", idempotency_key=key
    )
    payment.status, payment.updated_at = PaymentStatus.VOIDED, utc_now()
    session.add(payment)
    session.flush()
    record_payment(ctx, payment, "void_payment", "payment_voided", reason=reason)
    return response.message


def lock_payment(session: Session, payment_id: int) -> tuple[Order, Payment]:
    """Lock the payment's order, then the payment (always in that order: no deadlocks)."""
    order_id = session.exec(select(Payment.order_id).where(Payment.id == payment_id)).first()
    if order_id is None:
        raise NotFound(f"payment {payment_id} does not exist", field="payment_id")
    order = lock_order(session, order_id)
    payment = session.exec(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return order, payment


def record_payment(
    ctx: ToolContext, payment: Payment, action: str, event: str, **extra: Any
) -> None:
    ctx.record(
        action=action,
        entity_type="payment",
        entity_id=payment.id,
        event=event,
        domain="payments",
        payload={
            "payment_id": payment.id,
            "order_id": payment.order_id,
            "status": PaymentStatus(payment.status).value,
            "amount_cents": payment.amount_cents,
            "captured_cents": payment.captured_cents,
            "failure_code": payment.failure_code,
            "provider_reference": payment.provider_reference,
            **extra,
        },
    )


def payment_out(session: Session, payment: Payment, message: str | None) -> PaymentOut:
    gateway = session.get(PaymentGateway, payment.gateway_id)
    method = (
        session.get(PaymentMethod, payment.payment_method_id) if payment.payment_method_id else None
    )
    order = session.get(Order, payment.order_id)
    status = PaymentStatus(payment.status)
    sandbox = gateway is not None and gateway.mode == GatewayMode.TEST
    if message is None:
        message = payment.failure_message or f"payment {status.value}"
        message = f"SANDBOX (test mode): {message}" if sandbox else message
    return PaymentOut(
        id=payment.id or 0,
        order_id=payment.order_id,
        order_status=order.status if order else OrderStatus.PENDING,
        gateway=gateway.code if gateway else "?",
        payment_method_id=payment.payment_method_id,
        card=f"{method.brand} ****{method.last4}" if method and method.last4 else None,
        status=status,
        currency=payment.currency,
        amount_cents=payment.amount_cents,
        captured_cents=payment.captured_cents,
        refunded_cents=payment.refunded_cents,
        refundable_cents=payment.captured_cents - payment.refunded_cents
        if status in REFUNDABLE
        else 0,
        fee_cents=payment.fee_cents,
        provider_reference=payment.provider_reference,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        created_at=as_utc(payment.created_at),
        authorized_at=as_utc(payment.authorized_at),
        captured_at=as_utc(payment.captured_at),
        message=message,
        sandbox=sandbox,
    )


def refund_out(refund: Refund, message: str) -> RefundOut:
    return RefundOut(
        id=refund.id or 0,
        payment_id=refund.payment_id,
        order_id=refund.order_id,
        return_id=refund.return_id,
        amount_cents=refund.amount_cents,
        amount=euros(refund.amount_cents),
        status=refund.status,
        reason=refund.reason,
        provider_reference=refund.provider_reference,
        created_by=refund.created_by,
        created_at=as_utc(refund.created_at),
        message=message,
    )
