"""Payment providers behind the payments tools: card checks and the sandbox gateway.

`SandboxGateway` has the interface a live card provider has (tokenize, authorize, capture,
refund, void) and behaves like a provider's test mode: test card numbers decide the outcome,
references start with "sbx_", every response says it is a sandbox, authorizations expire
after seven days, and a capture or a refund is checked against the provider's own ledger
(the sandbox keeps none of its own: its ledger is the payment rows holding its references).
Declines come back as responses with `ok=False` (the payment attempt is recorded as failed);
requests the provider refuses outright (unknown reference, amount over what is left, live
card in test mode) raise ProviderError.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel
from sqlmodel import Session, select

from db.base import as_utc, utc_now
from db.models import (
    GatewayMode,
    Payment,
    PaymentGateway,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
)
from tools.base import InvalidInput, ProviderError

SANDBOX_PROVIDER = "comptoir-sandbox"
MARKETPLACE_PROVIDER = "marketplace"
AUTHORIZATION_VALIDITY = timedelta(days=7)
MIN_AMOUNT_CENTS = 50
MAX_AMOUNT_CENTS = 99_999_999
ACCEPTED_NETWORKS = ("visa", "mastercard", "amex")


# -- cards ---------------------------------------------------------------------------------


def card_digits(number: str, field: str = "card_number") -> str:
    """The digits of a card number typed with spaces or dashes; InvalidInput otherwise."""
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise InvalidInput("a card number is 12 to 19 digits (spaces allowed)", field=field)
    return digits


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_network(digits: str) -> str:
    """The card network from the number's prefix and length ('unknown' when none fits)."""
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and len(digits) in (13, 16, 19):
        return "visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and len(digits) == 16:
        return "mastercard"
    if two in (34, 37) and len(digits) == 15:
        return "amex"
    if digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649:
        return "discover"
    if 3528 <= four <= 3589:
        return "jcb"
    if two in (36, 38) or 300 <= int(digits[:3]) <= 305:
        return "diners"
    if two == 62:
        return "unionpay"
    return "unknown"


def card_fingerprint(digits: str) -> str:
    """The anonymous identifier of a card: SHA-256 of its number. The number is never kept."""
    return hashlib.sha256(digits.encode()).hexdigest()


@dataclass(frozen=True)
class TestCard:
    brand: str
    code: str | None  # None: approved
    message: str


APPROVED = "Approved."
# The sandbox's test cards, as payment providers' test modes publish them.
TEST_CARDS: dict[str, TestCard] = {
    "4242424242424242": TestCard("visa", None, APPROVED),
    "4000056655665556": TestCard("visa", None, APPROVED),
    "4000002500001001": TestCard("cb", None, APPROVED),
    "5555555555554444": TestCard("mastercard", None, APPROVED),
    "2223003122003222": TestCard("mastercard", None, APPROVED),
    "5200828282828210": TestCard("mastercard", None, APPROVED),
    "378282246310005": TestCard("amex", None, APPROVED),
    "4000000000000002": TestCard("visa", "card_declined", "The card was declined."),
    "4000000000009995": TestCard("visa", "insufficient_funds", "Insufficient funds."),
    "4000000000000069": TestCard("visa", "expired_card", "The card has expired."),
    "4100000000000019": TestCard(
        "visa", "do_not_honor", "The bank refused the payment (do not honor)."
    ),
    "4000000000000119": TestCard(
        "visa", "processing_error", "The card could not be processed; try again."
    ),
}
TEST_CARDS_BY_FINGERPRINT = {card_fingerprint(n): card for n, card in TEST_CARDS.items()}


class CardToken(BaseModel):
    """What a provider hands back for a card: never the number."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str
    sandbox: bool


class GatewayResponse(BaseModel):
    """One provider answer. `ok` is False for a decline; the message says it is a sandbox."""

    ok: bool
    operation: Literal["authorize", "capture", "refund", "void"]
    status: Literal["authorized", "captured", "refunded", "voided", "declined", "failed"]
    amount_cents: int
    reference: str | None
    code: str | None = None
    message: str
    fee_cents: int = 0
    provider: str
    sandbox: bool
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PaymentSource:
    """What pays: a stored payment method, or (test mode only) a raw test card number."""

    method: PaymentMethod | None = None
    card_digits: str | None = None

    @property
    def fingerprint(self) -> str | None:
        if self.card_digits:
            return card_fingerprint(self.card_digits)
        return self.method.fingerprint if self.method else None


# -- the sandbox provider --------------------------------------------------------------------


class SandboxGateway:
    """The Comptoir sandbox: a card, PayPal and SEPA provider in test mode."""

    provider = SANDBOX_PROVIDER

    def __init__(self, session: Session, gateway: PaymentGateway) -> None:
        self.session = session
        self.gateway = gateway

    def tokenize_card(self, digits: str, exp_month: int, exp_year: int) -> CardToken:
        """Turn a card into a token; in test mode only test card numbers are accepted."""
        card = TEST_CARDS.get(digits)
        if card is None:
            raise ProviderError(
                f"sandbox ({self.gateway.code}) is in test mode and accepts only test card "
                "numbers, e.g. 4242 4242 4242 4242; a real card number is refused",
                field="card_number",
                code="test_mode_live_card",
            )
        return CardToken(
            brand=card.brand,
            last4=digits[-4:],
            exp_month=exp_month,
            exp_year=exp_year,
            fingerprint=card_fingerprint(digits),
            sandbox=True,
        )

    def authorize(
        self, *, amount_cents: int, currency: str, source: PaymentSource, idempotency_key: str
    ) -> GatewayResponse:
        """Put a hold of `amount_cents` on the source; declined per the test card."""
        self._check_amount(amount_cents, currency)
        code, message = self._outcome(source)
        reference = f"sbx_pi_{secrets.token_hex(12)}"
        if code:
            return self._response(
                "authorize",
                False,
                "declined",
                amount_cents,
                reference,
                message,
                idempotency_key,
                code=code,
            )
        return self._response(
            "authorize", True, "authorized", amount_cents, reference, APPROVED, idempotency_key
        )

    def capture(
        self, *, reference: str, amount_cents: int, idempotency_key: str
    ) -> GatewayResponse:
        """Capture all or part of an authorization (once); the rest of the hold is released."""
        payment = self._ledger(reference)
        if payment.status != PaymentStatus.AUTHORIZED or payment.captured_cents:
            raise ProviderError(
                f"sandbox: authorization {reference} is {payment.status}; it cannot be captured"
            )
        if not 0 < amount_cents <= payment.amount_cents:
            raise ProviderError(
                f"sandbox: capture of {amount_cents} cents is outside the authorization of "
                f"{payment.amount_cents} cents"
            )
        authorized_at = as_utc(payment.authorized_at or payment.created_at)
        if utc_now() - authorized_at > AUTHORIZATION_VALIDITY:
            return self._response(
                "capture",
                False,
                "failed",
                amount_cents,
                reference,
                f"The authorization expired on {(authorized_at + AUTHORIZATION_VALIDITY):%Y-%m-%d}"
                " (authorizations last 7 days); authorize again.",
                idempotency_key,
                code="authorization_expired",
            )
        fee = round(amount_cents * self.gateway.fee_bp / 10000) + self.gateway.fee_fixed_cents
        response = self._response(
            "capture", True, "captured", amount_cents, reference, APPROVED, idempotency_key
        )
        response.fee_cents = fee
        return response

    def refund(self, *, reference: str, amount_cents: int, idempotency_key: str) -> GatewayResponse:
        """Send money back on a captured charge, never more than captured minus refunded."""
        payment = self._ledger(reference)
        left = payment.captured_cents - payment.refunded_cents
        if not 0 < amount_cents <= left:
            raise ProviderError(
                f"sandbox: refund of {amount_cents} cents refused on {reference}: "
                f"{left} cents are left to refund"
            )
        return self._response(
            "refund",
            True,
            "refunded",
            amount_cents,
            f"sbx_re_{secrets.token_hex(12)}",
            "Refunded (sandbox refunds are instant; a real bank takes 3 to 10 working days).",
            idempotency_key,
        )

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResponse:
        """Release an uncaptured authorization."""
        payment = self._ledger(reference)
        if payment.status != PaymentStatus.AUTHORIZED:
            raise ProviderError(f"sandbox: {reference} is {payment.status}; only holds are voided")
        return self._response(
            "void",
            True,
            "voided",
            payment.amount_cents,
            reference,
            "Authorization released.",
            idempotency_key,
        )

    # -- internals

    def _outcome(self, source: PaymentSource) -> tuple[str | None, str]:
        method = source.method
        if method is not None and method.kind != PaymentMethodKind.CARD:
            return None, APPROVED  # PayPal and SEPA mandates are approved in the sandbox
        if source.card_digits is not None:
            card = TEST_CARDS.get(source.card_digits)
            if card is None:
                return (
                    "card_declined",
                    "Declined: test mode accepts only test card numbers "
                    "(4242 4242 4242 4242 is approved).",
                )
            return card.code, card.message
        if method is None:
            return "card_declined", "Declined: no card given."
        today = utc_now()
        if (
            method.exp_year
            and method.exp_month
            and (method.exp_year, method.exp_month)
            < (
                today.year,
                today.month,
            )
        ):
            return "expired_card", f"The card expired in {method.exp_month:02d}/{method.exp_year}."
        # A stored card: the sandbox issued its token; test cards keep their outcome.
        known = TEST_CARDS_BY_FINGERPRINT.get(method.fingerprint or "")
        return (known.code, known.message) if known else (None, APPROVED)

    def _check_amount(self, amount_cents: int, currency: str) -> None:
        if currency != "EUR":
            raise ProviderError(f"sandbox: currency {currency} is not enabled; use EUR")
        if not MIN_AMOUNT_CENTS <= amount_cents <= MAX_AMOUNT_CENTS:
            raise ProviderError(
                f"sandbox: amounts go from {MIN_AMOUNT_CENTS} to {MAX_AMOUNT_CENTS} cents; "
                f"got {amount_cents}"
            )

    def _ledger(self, reference: str) -> Payment:
        payment = self.session.exec(
            select(Payment).where(Payment.provider_reference == reference)
        ).first()
        if payment is None or payment.gateway_id != self.gateway.id:
            raise ProviderError(f"sandbox: no charge {reference} on gateway {self.gateway.code}")
        return payment

    def _response(
        self,
        operation: Literal["authorize", "capture", "refund", "void"],
        ok: bool,
        status: Literal["authorized", "captured", "refunded", "voided", "declined", "failed"],
        amount_cents: int,
        reference: str | None,
        message: str,
        idempotency_key: str | None,
        *,
        code: str | None = None,
    ) -> GatewayResponse:
        return GatewayResponse(
            ok=ok,
            operation=operation,
            status=status,
            amount_cents=amount_cents,
            reference=reference,
            code=code,
            message=f"SANDBOX (test mode, no money moved): {message}",
            provider=self.provider,
            sandbox=True,
            idempotency_key=idempotency_key,
        )


class MarketplaceCollected:
    """Payments the marketplace collected: nothing to authorize or capture here; a refund is
    recorded in Comptoir and executed by the marketplace (its connector pushes it)."""

    provider = MARKETPLACE_PROVIDER

    def __init__(self, session: Session, gateway: PaymentGateway) -> None:
        self.session = session
        self.gateway = gateway

    def refund(self, *, reference: str, amount_cents: int, idempotency_key: str) -> GatewayResponse:
        return GatewayResponse(
            ok=True,
            operation="refund",
            status="refunded",
            amount_cents=amount_cents,
            reference=None,
            message="Recorded; the marketplace collected this payment and refunds the buyer "
            "itself (the marketplace connector pushes the refund).",
            provider=self.provider,
            sandbox=self.gateway.mode == GatewayMode.TEST,
            idempotency_key=idempotency_key,
        )


def gateway_client(
    session: Session, gateway: PaymentGateway, *, new_payment: bool = True
) -> SandboxGateway:
    """The provider client of a gateway row: the sandbox for test-mode sandbox gateways.

    A gateway switched off takes no new payments but still captures and refunds old ones.
    """
    if new_payment and not gateway.is_active:
        raise ProviderError(f"gateway {gateway.code} is switched off", code="gateway_inactive")
    if gateway.provider == SANDBOX_PROVIDER:
        if gateway.mode != GatewayMode.TEST:
            raise ProviderError(
                f"gateway {gateway.code} is set to live mode but no live credentials are "
                "configured; switch it back to test mode",
                code="gateway_not_configured",
            )
        return SandboxGateway(session, gateway)
    raise ProviderError(
        f"gateway {gateway.code} ({gateway.provider}) does not take payments through Comptoir",
        code="gateway_unsupported",
    )


def refund_client(
    session: Session, gateway: PaymentGateway
) -> SandboxGateway | MarketplaceCollected:
    """The client that refunds a payment taken through `gateway`."""
    if gateway.provider == MARKETPLACE_PROVIDER:
        return MarketplaceCollected(session, gateway)
    return gateway_client(session, gateway, new_payment=False)
