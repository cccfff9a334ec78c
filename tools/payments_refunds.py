"""Refunds: one payment's (refund_payment) or an order's across its payments (refund_order).

A refund never exceeds what was captured minus what was already refunded: the order, then its
payment rows, are locked while it is computed, and the database checks it again.
"""

from typing import Annotated

from pydantic import Field
from sqlmodel import select

from db.base import utc_now
from db.models import (
    IdempotencyRecord,
    Order,
    Payment,
    PaymentGateway,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReturnRequest,
)
from tools.base import Conflict, InvalidInput, ToolContext, tool
from tools.common import euros, get_or_404
from tools.orders import lock_order
from tools.payment_gateway import refund_client
from tools.payments_core import (
    REFUNDABLE,
    IdempotencyKey,
    PaymentId,
    RefundOut,
    idempotent,
    lock_payment,
    refund_out,
    void_hold,
)


def check_refundable(payment: Payment, amount_cents: int | None) -> int:
    """The amount a refund of this payment would be (all that is left by default), or the
    Conflict it is refused with: a payment not captured, or more than is left on it."""
    if payment.status not in REFUNDABLE:
        hint = " (void an authorization instead)" if payment.status == "authorized" else ""
        raise Conflict(
            f"payment {payment.id} is {payment.status.value}; only captured payments are "
            f"refunded{hint}"
        )
    left = payment.captured_cents - payment.refunded_cents
    amount = amount_cents or left
    if amount > left:
        raise Conflict(
            f"a refund of {euros(amount)} is more than the {euros(left)} left on payment "
            f"{payment.id} (captured {euros(payment.captured_cents)}, already refunded "
            f"{euros(payment.refunded_cents)})",
            field="amount_cents",
        )
    return amount


def _refundable(
    ctx: ToolContext,
    payment_id: int,
    reason: str,
    idempotency_key: str,
    amount_cents: int | None = None,
) -> None:
    used = ctx.session.exec(
        select(IdempotencyRecord.id).where(
            IdempotencyRecord.operation == "refund_payment",
            IdempotencyRecord.key == idempotency_key,
        )
    ).first()
    if used is None:  # a retry replays its first answer, whatever is left now
        check_refundable(get_or_404(ctx.session, Payment, payment_id), amount_cents)


@tool(
    agent="payments",
    path="/payments/transactions/{payment_id}/refund",
    writes=True,
    approval=True,
    precheck=_refundable,
)
def refund_payment(
    ctx: ToolContext,
    payment_id: PaymentId,
    reason: Annotated[str, Field(min_length=3, max_length=200, description="Why, for the log.")],
    idempotency_key: IdempotencyKey,
    amount_cents: Annotated[
        int | None, Field(ge=1, description="Refund this much; default: everything left.")
    ] = None,
) -> RefundOut:
    """Refund all or part of a captured payment through its provider. Never more than captured
    minus already refunded; the loyalty points earned on the refunded amount are withdrawn.
    Retrying with the same idempotency key refunds once."""
    request = {"payment_id": payment_id, "amount_cents": amount_cents, "reason": reason}

    def run() -> RefundOut:
        order, payment = lock_payment(ctx.session, payment_id)
        amount = check_refundable(payment, amount_cents)
        refund, message = _refund(ctx, payment, amount, reason, idempotency_key, None)
        revoke_points(ctx, order, amount)
        return refund_out(refund, message)

    return idempotent(ctx, "refund_payment", idempotency_key, request, RefundOut, run)


def refund_order(
    ctx: ToolContext,
    *,
    order_id: int,
    amount_cents: int | None,
    reason: str,
    idempotency_key: str,
    return_id: int | None = None,
) -> list[RefundOut]:
    """Refund up to `amount_cents` (None: everything still refundable) across the order's
    captured payments, oldest first; never above captured minus refunded. [] when nothing was
    captured. With None, uncaptured authorizations are released too. Same key = one effect."""
    if amount_cents is not None and amount_cents <= 0:
        raise InvalidInput("a refund amount is positive", field="amount_cents")
    if not 1 <= len(idempotency_key) <= 120:
        raise InvalidInput("an idempotency key has 1 to 120 characters", field="idempotency_key")
    if not reason.strip():
        raise InvalidInput("a refund needs a reason", field="reason")
    session = ctx.session
    order = lock_order(session, order_id)
    if return_id is not None:
        get_or_404(session, ReturnRequest, return_id, "return")
    payments = list(
        session.exec(
            select(Payment)
            .where(Payment.order_id == order_id)
            .order_by(Payment.id)  # type: ignore[arg-type]
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    )
    open_holds = [p for p in payments if p.status == PaymentStatus.AUTHORIZED]
    if amount_cents is not None:
        open_holds = []
    refundable = [
        (p, p.captured_cents - p.refunded_cents) for p in payments if p.status in REFUNDABLE
    ]
    left = sum(amount for _, amount in refundable)
    captured = sum(p.captured_cents for p in payments)

    def skip() -> list[RefundOut] | None:
        nothing = captured == 0 or (amount_cents is None and left == 0)
        return [] if nothing and not open_holds else None

    def run() -> list[RefundOut]:
        amount = left if amount_cents is None else amount_cents
        if amount > left:
            refunded = sum(p.refunded_cents for p in payments)
            raise Conflict(
                f"order {order_id}: a refund of {euros(amount)} is more than the {euros(left)} "
                f"left to refund (captured {euros(captured)}, refunded {euros(refunded)})",
                field="amount_cents",
            )
        out, remaining = [], amount
        for payment, available in refundable:
            take = min(available, remaining)
            if take > 0:
                refund, message = _refund(
                    ctx, payment, take, reason, f"{idempotency_key}:{payment.id}", return_id
                )
                out.append(refund_out(refund, message))
                remaining -= take
        for payment in open_holds:
            void_hold(ctx, payment, f"{idempotency_key}:void:{payment.id}", reason)
        if amount:
            revoke_points(ctx, order, amount)
        return out

    request = {
        "order_id": order_id,
        "amount_cents": amount_cents,
        "reason": reason,
        "return_id": return_id,
    }
    return idempotent(
        ctx, "refund_order", idempotency_key, request, list[RefundOut], run, skip=skip
    )


def _refund(
    ctx: ToolContext, payment: Payment, amount: int, reason: str, key: str, return_id: int | None
) -> tuple[Refund, str]:
    """Refund `amount` of a locked payment; the caller checked it is within what is left."""
    session = ctx.session
    gateway = get_or_404(session, PaymentGateway, payment.gateway_id)
    response = refund_client(session, gateway).refund(
        reference=payment.provider_reference or "", amount_cents=amount, idempotency_key=key
    )
    now = utc_now()
    refund = Refund(
        payment_id=payment.id or 0,
        order_id=payment.order_id,
        return_id=return_id,
        amount_cents=amount,
        status=RefundStatus.SUCCEEDED,
        reason=reason[:200],
        provider_reference=response.reference,
        created_by=ctx.actor.email,
        created_at=now,
    )
    payment.refunded_cents += amount
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_cents >= payment.captured_cents
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.updated_at = now
    session.add_all([refund, payment])
    session.flush()
    ctx.record(
        action="refund_payment",
        entity_type="refund",
        entity_id=refund.id,
        event="refund_created",
        domain="payments",
        payload={
            "refund_id": refund.id,
            "payment_id": payment.id,
            "order_id": payment.order_id,
            "return_id": return_id,
            "amount_cents": amount,
            "reason": refund.reason,
            "provider_reference": refund.provider_reference,
            "sandbox": response.sandbox,
        },
        before={"refunded_cents": payment.refunded_cents - amount},
        after={"refunded_cents": payment.refunded_cents, "status": payment.status.value},
    )
    return refund, response.message


def revoke_points(ctx: ToolContext, order: Order, amount: int) -> None:
    from tools.customers import revoke_points_for_refund

    revoke_points_for_refund(ctx, order, amount)
