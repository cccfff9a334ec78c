"""The fraud signals, each computed from rows the database holds, and the thresholds.

A signal is (name, weight, detail); a score is the sum of the weights, capped at 100.
"""

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from db.base import as_utc, utc_now
from db.models import (
    Address,
    AddressKind,
    BlockedEntity,
    BlockedEntityKind,
    Customer,
    FraudDecision,
    Order,
    Payment,
    PaymentStatus,
    SystemSetting,
)
from tools.base import InvalidInput, NotFound

DAY = timedelta(days=1)
THRESHOLDS = (
    ("fraud.block_threshold", 80),
    ("fraud.review_threshold", 50),
    ("fraud.flag_threshold", 30),
)
DISPOSABLE_DOMAINS = frozenset(
    {
        "yopmail.com",
        "guerrillamail.com",
        "mailinator.com",
        "10minutemail.com",
        "trashmail.com",
        "temp-mail.org",
        "getnada.com",
        "sharklasers.com",
        "dispostable.com",
        "maildrop.cc",
    }
)


def blocked_signal(
    session: Session, customer: Customer, ips: list[str], fingerprints: list[str]
) -> list[tuple[str, int, str]]:
    wanted = identifiers(customer.id, customer.email, ips, fingerprints)
    blocks = session.exec(active_blocks(wanted).order_by(BlockedEntity.id)).all()
    if not blocks:
        return []
    matched = "; ".join(f"{label(b)} ({b.reason})" for b in blocks)
    return [("blocked_entity", 80, f"matches the block list: {matched}")]


def address_signal(
    session: Session, billing_id: int, shipping_id: int
) -> list[tuple[str, int, str]]:
    if billing_id == shipping_id:
        return []
    billing, shipping = session.get(Address, billing_id), session.get(Address, shipping_id)
    if billing is None or shipping is None:
        return []
    if billing.country != shipping.country:
        return [
            (
                "address_mismatch",
                20,
                f"billing in {billing.country}, shipping to {shipping.country}",
            )
        ]
    if billing.city.strip().lower() != shipping.city.strip().lower():
        return [("address_mismatch", 10, f"billing in {billing.city}, shipping to {shipping.city}")]
    return []


def account_signals(customer: Customer, at: datetime, what: str) -> list[tuple[str, int, str]]:
    signals = []
    age = at - as_utc(customer.created_at)
    if age < DAY:
        minutes = max(0, int(age.total_seconds() // 60))
        signals.append(("new_account", 20, f"account created {minutes} minutes before {what}"))
    elif age < 7 * DAY:
        signals.append(("recent_account", 10, f"account {age.days} days old at {what}"))
    domain = customer.email.rsplit("@", 1)[-1].lower()
    if domain in DISPOSABLE_DOMAINS:
        signals.append(("disposable_email", 15, f"disposable e-mail domain {domain}"))
    return signals


def shared_ip_signal(
    session: Session, customer_id: int, ips: list[str], until: datetime
) -> list[tuple[str, int, str]]:
    if not ips:
        return []
    others = session.exec(
        select(func.count(sa.distinct(col(Order.customer_id)))).where(
            col(Order.ip_address).in_(ips),
            Order.customer_id != customer_id,
            col(Order.placed_at) <= until,
        )
    ).one()
    if not others:
        return []
    return [
        (
            "shared_ip",
            25,
            f"IP address {', '.join(ips[:3])} also used by {others} other customer account(s)",
        )
    ]


def method_signal(
    methods: Any, window: tuple[datetime, datetime], what: str
) -> list[tuple[str, int, str]]:
    start, end = window
    added = [m for m in methods if start <= as_utc(m.created_at) <= end]
    if not added:
        return []
    cards = ", ".join(f"{m.brand or m.kind} {m.last4 or ''}".strip() for m in added)
    weight = 20 if len(added) >= 2 else 10
    return [
        (
            "new_payment_methods",
            weight,
            f"{len(added)} payment method(s) added within 24 hours of {what}: {cards}",
        )
    ]


def declines_signal(
    session: Session, customer_id: int, window: tuple[datetime, datetime]
) -> list[tuple[str, int, str]]:
    declined = session.exec(
        select(func.count())
        .select_from(Payment)
        .join(Order, Order.id == Payment.order_id)  # type: ignore[arg-type]
        .where(
            Order.customer_id == customer_id,
            Payment.status == PaymentStatus.FAILED,
            Payment.created_at >= window[0],
            Payment.created_at <= window[1],
        )
    ).one()
    if declined < 2:
        return []
    return [("declined_payments", 15, f"{declined} declined payment attempts within 24 hours")]


def fraud_thresholds(session: Session) -> dict[str, int]:
    values = {}
    for key, default in THRESHOLDS:
        row = session.get(SystemSetting, key)
        value = row.value if row is not None else None
        values[key.split(".")[1].removesuffix("_threshold")] = (
            int(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else default
        )
    return values


def decide(score: int, thresholds: dict[str, int]) -> FraudDecision:
    if score >= thresholds["block"]:
        return FraudDecision.BLOCK
    if score >= thresholds["review"]:
        return FraudDecision.REVIEW
    if score >= thresholds["flag"]:
        return FraudDecision.FLAG
    return FraudDecision.ALLOW


def label(block: BlockedEntity) -> str:
    kind = BlockedEntityKind(block.kind)
    if kind == BlockedEntityKind.CARD_FINGERPRINT:
        return f"card fingerprint {block.value[:12]}..."
    return f"{kind.value.replace('_', ' ')} {block.value}"


def identifiers(
    customer_id: int | None, email: str | None, ips: list[str], fingerprints: list[str]
) -> list[tuple[BlockedEntityKind, str]]:
    wanted = [(BlockedEntityKind.IP, _ip(ip)) for ip in ips] + [
        (BlockedEntityKind.CARD_FINGERPRINT, f.lower()) for f in fingerprints
    ]
    if customer_id is not None:
        wanted.append((BlockedEntityKind.CUSTOMER, str(customer_id)))
    if email:
        wanted.append((BlockedEntityKind.EMAIL, email.strip().lower()))
    return wanted


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return value


def matching(wanted: list[tuple[BlockedEntityKind, str]]) -> Any:
    return sa.or_(
        sa.false(),
        *(
            sa.and_(col(BlockedEntity.kind) == kind, col(BlockedEntity.value) == value)
            for kind, value in wanted
        ),
    )


def in_force(now: datetime) -> list[Any]:
    return [
        col(BlockedEntity.unblocked_at).is_(None),
        sa.or_(col(BlockedEntity.expires_at).is_(None), col(BlockedEntity.expires_at) > now),
    ]


def active_blocks(wanted: list[tuple[BlockedEntityKind, str]]) -> Any:
    return select(BlockedEntity).where(matching(wanted), *in_force(utc_now()))


def default_address(session: Session, customer_id: int, kind: AddressKind) -> int | None:
    return session.exec(
        select(Address.id)
        .where(Address.customer_id == customer_id, Address.kind == kind)
        .order_by(col(Address.is_default).desc(), col(Address.id).desc())
    ).first()


def normalize_entity(
    session: Session, kind: BlockedEntityKind, value: str, *, must_exist: bool = True
) -> str:
    """The stored form of a blocked value, checked for its kind (InvalidInput, NotFound)."""
    value = value.strip()
    if kind == BlockedEntityKind.CUSTOMER:
        if not value.isdigit():
            raise InvalidInput("a customer is blocked by id, e.g. 605", field="value")
        if must_exist and session.get(Customer, int(value)) is None:
            raise NotFound(f"customer {value} does not exist", field="value")
        return str(int(value))
    if kind == BlockedEntityKind.EMAIL:
        value = value.lower()
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
            raise InvalidInput(f"{value!r} is not an e-mail address", field="value")
        return value
    if kind == BlockedEntityKind.IP:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise InvalidInput(f"{value!r} is not an IPv4 or IPv6 address", field="value") from None
    value = value.lower()
    if not re.fullmatch(r"[0-9a-f]{32,64}", value):
        raise InvalidInput(
            "a card fingerprint is 32 to 64 hexadecimal characters (see the payment method)",
            field="value",
        )
    return value
