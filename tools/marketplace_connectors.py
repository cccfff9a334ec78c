"""The interface every marketplace connector implements, what it exchanges, and who each
marketplace is (id formats, status names, rate limits, listing rules).

A live connector (Amazon SP-API, Mirakl, ...) would implement `Connector` against the real
API; Comptoir ships sandbox connectors only (tools/marketplace_sandbox.py), and refuses
live mode because no live credentials are configured.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from db.models import Marketplace
from tools.base import ProviderError

# -- what connectors exchange ------------------------------------------------------------


class RemoteLine(BaseModel):
    sku: str = Field(description="The seller SKU the marketplace holds for the offer.")
    quantity: int
    unit_price_cents: int = Field(description="What the buyer paid per unit, VAT included.")


class RemoteOrder(BaseModel):
    """An order as the marketplace describes it before the seller accepts it."""

    external_order_id: str
    status: str = Field(description="The marketplace's own status name.")
    cancelled: bool = False
    cancel_reason: str | None = None
    placed_at: datetime
    buyer_email: str
    buyer_name: str
    shipping_country: str
    shipping_service: str = "standard"
    shipping_cents: int = 0
    total_cents: int
    lines: list[RemoteLine]
    sandbox: bool = True


class ShippingAddress(BaseModel):
    full_name: str
    line1: str
    line2: str | None = None
    postcode: str
    city: str
    country: str


class Acknowledgement(BaseModel):
    """The seller accepted the order; the marketplace reveals where to ship it."""

    external_order_id: str
    status: str
    shipping_address: ShippingAddress
    sandbox: bool = True


class StockItem(BaseModel):
    sku: str
    quantity: int


class StockOutcome(BaseModel):
    sku: str
    quantity: int
    outcome: str = Field(description="updated, unchanged or not_listed.")
    message: str
    sandbox: bool = True


class RemoteMessage(BaseModel):
    external_id: str
    external_order_id: str | None
    author: str
    subject: str
    body: str
    sent_at: datetime
    sandbox: bool = True


class SentMessage(BaseModel):
    external_id: str
    sent_at: datetime
    sandbox: bool = True


class OfferRequest(BaseModel):
    sku: str
    ean: str | None
    title: str
    category: str = Field(description="Comptoir category slug.")
    condition: str = Field(description="new or refurbished.")
    grade: str | None
    price_cents: int
    reference_price_cents: int = Field(description="Our catalogue price for the same SKU.")
    quantity: int


class OfferDecision(BaseModel):
    accepted: bool
    external_offer_id: str | None
    status: str = Field(description="The marketplace's own status name for the offer.")
    reason: str | None = None
    sandbox: bool = True


class Connector(Protocol):
    """What Comptoir needs from a marketplace; one implementation per marketplace and mode."""

    marketplace: Marketplace
    sandbox: bool

    def fetch_orders(self, since: datetime | None) -> list[RemoteOrder]: ...

    def acknowledge_order(self, external_order_id: str) -> Acknowledgement: ...

    def push_stock(self, items: list[StockItem]) -> list[StockOutcome]: ...

    def fetch_messages(self, since: datetime | None) -> list[RemoteMessage]: ...

    def send_message(self, external_order_id: str, subject: str, body: str) -> SentMessage: ...

    def create_offer(self, offer: OfferRequest) -> OfferDecision: ...


class RateLimited(ProviderError):
    """The marketplace answered 429: too many calls; `retry_after` seconds until the next."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


# -- who each marketplace is -------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    label: str
    order_id: re.Pattern[str]  # the marketplace's order number format
    status_new: str
    status_accepted: str
    status_cancelled: str
    offer_prefix: str
    offer_active: str
    offer_refused: str
    message_prefix: str
    acceptance_hours: int | None  # unaccepted orders are cancelled by the marketplace after
    burst: int  # calls allowed at once
    refill_per_s: float  # calls regained per second
    orders_per_hour: float  # simulated buyer activity
    messages_per_hour: float
    countries: tuple[str, ...]
    message_max_chars: int
    no_contact_details: bool  # e-mail addresses and links are refused in messages
    requires_ean: bool
    refurbished_only: bool
    refused_grades: tuple[str, ...]
    refused_categories: tuple[str, ...]
    floor_ratio: float | None  # lowest price accepted, as a share of the reference price
    ceiling_ratio: float | None  # highest price accepted ("fair price")
    title_max: int


PROFILES: dict[Marketplace, Profile] = {
    Marketplace.AMAZON: Profile(
        label="Amazon",
        order_id=re.compile(r"^\d{3}-\d{7}-\d{7}$"),
        status_new="Unshipped",
        status_accepted="Unshipped",
        status_cancelled="Canceled",
        offer_prefix="AM-OF",
        offer_active="BUYABLE",
        offer_refused="INVALID",
        message_prefix="AMA-MSG",
        acceptance_hours=None,
        burst=20,
        refill_per_s=0.5,
        orders_per_hour=1.0,
        messages_per_hour=0.3,
        countries=("FR", "FR", "FR", "BE"),
        message_max_chars=2000,
        no_contact_details=True,
        requires_ean=True,
        refurbished_only=False,
        refused_grades=(),
        refused_categories=(),
        floor_ratio=0.5,
        ceiling_ratio=1.3,
        title_max=200,
    ),
    Marketplace.CDISCOUNT: Profile(
        label="Cdiscount",
        order_id=re.compile(r"^\d{10}CD$"),
        status_new="WaitingForSellerAcceptation",
        status_accepted="AcceptedBySeller",
        status_cancelled="CancelledByCustomer",
        offer_prefix="CD-OF",
        offer_active="Active",
        offer_refused="Rejected",
        message_prefix="CDI-MSG",
        acceptance_hours=48,
        burst=10,
        refill_per_s=0.2,
        orders_per_hour=0.8,
        messages_per_hour=0.25,
        countries=("FR",),
        message_max_chars=3000,
        no_contact_details=True,
        requires_ean=True,
        refurbished_only=False,
        refused_grades=(),
        refused_categories=(),
        floor_ratio=0.6,
        ceiling_ratio=None,
        title_max=132,
    ),
    Marketplace.BACKMARKET: Profile(
        label="Back Market",
        order_id=re.compile(r"^BM\d{10}$"),
        status_new="PENDING_VALIDATION",
        status_accepted="VALIDATED",
        status_cancelled="CANCELLED",
        offer_prefix="BA-OF",
        offer_active="ONLINE",
        offer_refused="REFUSED",
        message_prefix="BAC-MSG",
        acceptance_hours=48,
        burst=30,
        refill_per_s=1.0,
        orders_per_hour=0.8,
        messages_per_hour=0.35,
        countries=("FR", "FR", "BE"),
        message_max_chars=5000,
        no_contact_details=False,
        requires_ean=True,
        refurbished_only=True,
        refused_grades=("C",),
        refused_categories=(),
        floor_ratio=0.55,
        ceiling_ratio=None,
        title_max=150,
    ),
    Marketplace.REFURBED: Profile(
        label="refurbed",
        order_id=re.compile(r"^RFB-\d{10}$"),
        status_new="NEW",
        status_accepted="ACCEPTED",
        status_cancelled="CANCELLED",
        offer_prefix="RE-OF",
        offer_active="ACTIVE",
        offer_refused="REJECTED",
        message_prefix="REF-MSG",
        acceptance_hours=48,
        burst=25,
        refill_per_s=0.5,
        orders_per_hour=0.3,
        messages_per_hour=0.1,
        countries=("DE", "DE", "AT", "FR"),
        message_max_chars=3000,
        no_contact_details=False,
        requires_ean=True,
        refurbished_only=True,
        refused_grades=(),
        refused_categories=(),
        floor_ratio=0.7,
        ceiling_ratio=None,
        title_max=150,
    ),
    Marketplace.MIRAKL: Profile(
        label="Fnac Darty (Mirakl)",
        order_id=re.compile(r"^FD-\d{10}-A$"),
        status_new="WAITING_ACCEPTANCE",
        status_accepted="SHIPPING",
        status_cancelled="CANCELED",
        offer_prefix="MI-OF",
        offer_active="OK",
        offer_refused="ERROR",
        message_prefix="MIR-MSG",
        acceptance_hours=24,
        burst=15,
        refill_per_s=0.25,
        orders_per_hour=0.4,
        messages_per_hour=0.15,
        countries=("FR",),
        message_max_chars=3000,
        no_contact_details=True,
        requires_ean=True,
        refurbished_only=False,
        refused_grades=(),
        refused_categories=("gaming", "smart-home"),
        floor_ratio=0.6,
        ceiling_ratio=None,
        title_max=150,
    ),
    Marketplace.EBAY: Profile(
        label="eBay",
        order_id=re.compile(r"^\d{5}-\d{5}$"),
        status_new="NOT_STARTED",
        status_accepted="IN_PROGRESS",
        status_cancelled="CANCELLED",
        offer_prefix="EB-OF",
        offer_active="PUBLISHED",
        offer_refused="FAILED",
        message_prefix="EBA-MSG",
        acceptance_hours=None,
        burst=30,
        refill_per_s=1.0,
        orders_per_hour=0.3,
        messages_per_hour=0.1,
        countries=("FR", "FR", "BE", "DE"),
        message_max_chars=2000,
        no_contact_details=True,
        requires_ean=False,
        refurbished_only=False,
        refused_grades=(),
        refused_categories=(),
        floor_ratio=None,
        ceiling_ratio=None,
        title_max=80,
    ),
}


def valid_ean(code: str) -> bool:
    """A GTIN-8/12/13/14 with a correct check digit."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(d) for d in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def offer_refusal(profile: Profile, offer: OfferRequest) -> str | None:
    """Why the marketplace refuses the offer, in its words; None when it accepts it."""
    p, label = profile, profile.label
    if p.refurbished_only and offer.condition != "refurbished":
        return f"{label} lists refurbished devices only"
    if p.requires_ean and not offer.ean:
        return "missing EAN for this category"
    if offer.ean and not valid_ean(offer.ean):
        return f"EAN {offer.ean} is not a valid GTIN"
    if offer.grade in p.refused_grades:
        return f"grade {offer.grade} not accepted for this model"
    if offer.category in p.refused_categories:
        return "category not allowed for this shop"
    if len(offer.title) > p.title_max:
        return f"listing title too long ({len(offer.title)} characters, {p.title_max} at most)"
    if offer.price_cents < 100:
        return "price below the marketplace minimum of 1.00 EUR"
    if p.floor_ratio and offer.price_cents < offer.reference_price_cents * p.floor_ratio:
        floor = math.ceil(offer.reference_price_cents * p.floor_ratio) / 100
        return f"price below {label}'s floor for this model ({floor:.2f} EUR minimum)"
    if p.ceiling_ratio and offer.price_cents > offer.reference_price_cents * p.ceiling_ratio:
        ceiling = offer.reference_price_cents * p.ceiling_ratio // 1 / 100
        return f"price above the marketplace's fair-price ceiling ({ceiling:.2f} EUR at most)"
    return None
