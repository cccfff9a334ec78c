"""The carrier API Comptoir talks to, and its sandbox.

`CarrierApi` is the interface a live carrier integration has (Colissimo Box, Chronopost
Shipping Service, DPD Cloud, UPS and FedEx REST APIs all reduce to it): create a label,
which allocates a tracking number, and fetch a parcel's tracking scans.

`SandboxCarrier` implements it without reaching any carrier. It validates a label request as
a carrier does (weight limit, postcode format, phone number for carriers that need one),
allocates tracking numbers in each carrier's real format, and simulates the life of a parcel
from its pick-up: sorting centre, border crossing, delivery depot, out for delivery,
delivered, with the delays, failed attempts and returns to sender a real network has. The
simulation is deterministic for a parcel (seeded by its tracking number) and follows the
transit days of the rate card, so tracking the same parcel twice tells the same story.
Every response says it comes from the sandbox.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Protocol

from db.base import as_utc
from tools.base import ProviderError

PROVIDER = "comptoir-carrier-sandbox"
SANDBOX_NOTICE = "Comptoir carrier sandbox: no real parcel was handed to the carrier."

# Tracking number formats: prefix, number of digits, suffix.
TRACKING_FORMATS: dict[str, tuple[str, int, str]] = {
    "colissimo": ("6A", 11, ""),
    "chronopost": ("XY", 10, "FR"),
    "dpd": ("250", 11, ""),
    "colis_prive": ("CP", 12, ""),
    "ups": ("1Z9L4W", 12, ""),
    "fedex": ("7", 11, ""),
}
FIRST_SCAN = {
    "colissimo": "Plateforme Colissimo",
    "chronopost": "Agence Chronopost",
    "dpd": "Hub DPD",
    "colis_prive": "Centre Colis Privé",
    "ups": "UPS hub",
    "fedex": "FedEx hub",
}
SORTING_CENTRES = {
    "colissimo": ("PFC Saint-Priest", "PFC Bonneuil-sur-Marne", "PFC Wissous", "PFC Cestas"),
    "chronopost": ("Hub Chronopost Chilly-Mazarin", "Hub Chronopost Lyon-Corbas"),
    "dpd": ("Hub DPD Lyon-Corbas", "Hub DPD Wissous", "Hub DPD Saint-Quentin-Fallavier"),
    "colis_prive": ("Hub Colis Privé Genas", "Hub Colis Privé Moissy-Cramayel"),
    "ups": ("UPS Paris-Roissy", "UPS Lyon-Saint-Exupéry"),
    "fedex": ("FedEx Paris CDG Hub", "FedEx Lyon-Saint-Exupéry"),
}
NEEDS_PHONE = frozenset({"chronopost", "dpd"})  # Chronopost and DPD Predict text the recipient
POSTCODES = {
    "FR": r"\d{5}",
    "MC": r"980\d{2}",
    "DE": r"\d{5}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "BE": r"\d{4}",
    "LU": r"(L-)?\d{4}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "DK": r"\d{4}",
    "NL": r"\d{4}( ?[A-Z]{2})?",
    "PT": r"\d{4}(-\d{3})?",
    "PL": r"\d{2}-\d{3}",
    "IE": r"[A-Z0-9]{3} ?[A-Z0-9]{4}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
}


@dataclass(frozen=True)
class PostalAddress:
    name: str
    line1: str
    postcode: str
    city: str
    country: str
    line2: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class LabelRequest:
    """What a carrier's label endpoint needs: who ships what, how heavy, where, how fast."""

    carrier_code: str
    carrier_name: str
    service: str
    max_weight_grams: int
    weight_grams: int
    sender: PostalAddress
    recipient: PostalAddress
    reference: str = ""
    attempt: int = 0


@dataclass(frozen=True)
class Label:
    tracking_number: str
    carrier_code: str
    provider: str = PROVIDER
    sandbox: bool = True
    message: str = SANDBOX_NOTICE


@dataclass(frozen=True)
class Parcel:
    """A parcel as the carrier knows it from its label, to fetch its tracking."""

    tracking_number: str
    carrier_code: str
    service: str
    transit_days: int
    shipped_at: datetime
    origin_city: str
    destination_city: str
    destination_country: str


@dataclass(frozen=True)
class Scan:
    status: str  # a ShipmentStatus value
    occurred_at: datetime
    location: str | None
    description: str


@dataclass(frozen=True)
class TrackingReport:
    tracking_number: str
    scans: list[Scan] = field(default_factory=list)
    provider: str = PROVIDER
    sandbox: bool = True
    message: str = SANDBOX_NOTICE


class CarrierApi(Protocol):
    def create_label(self, request: LabelRequest) -> Label: ...

    def fetch_tracking(self, parcel: Parcel, now: datetime) -> TrackingReport: ...


def carrier_api(code: str) -> CarrierApi:
    """The API client for a carrier. Comptoir ships with the sandbox for every carrier."""
    return SandboxCarrier(code)


class SandboxCarrier:
    """A carrier API that validates like the real one and simulates parcels deterministically."""

    def __init__(self, code: str) -> None:
        self.code = code

    def create_label(self, request: LabelRequest) -> Label:
        name = f"{request.carrier_name} (sandbox)"
        if request.weight_grams > request.max_weight_grams:
            raise ProviderError(
                f"{name} refused the label: {request.weight_grams} g is over its limit of "
                f"{request.max_weight_grams} g; split the parcel or choose another carrier",
                field="weight_grams",
                code="carrier_rejected",
            )
        recipient = request.recipient
        pattern = POSTCODES.get(recipient.country)
        if pattern and not re.fullmatch(pattern, recipient.postcode.strip().upper()):
            raise ProviderError(
                f"{name} refused the label: {recipient.postcode!r} is not a valid "
                f"{recipient.country} postcode; correct the address with the customer",
                code="carrier_rejected",
            )
        if self.code in NEEDS_PHONE and not (recipient.phone or "").strip():
            raise ProviderError(
                f"{name} refused the label: it needs the recipient's mobile number; "
                "add it to the customer or choose another carrier",
                code="carrier_rejected",
            )
        return Label(
            tracking_number=tracking_number(self.code, request.reference, request.attempt),
            carrier_code=self.code,
        )

    def fetch_tracking(self, parcel: Parcel, now: datetime) -> TrackingReport:
        now = as_utc(now)
        scans = [scan for scan in parcel_timeline(parcel) if scan.occurred_at <= now]
        return TrackingReport(tracking_number=parcel.tracking_number, scans=scans)


def tracking_number(carrier_code: str, reference: str, attempt: int = 0) -> str:
    """A tracking number in the carrier's format, allocated for a label reference."""
    prefix, digits, suffix = TRACKING_FORMATS.get(
        carrier_code, ((re.sub(r"[^A-Za-z]", "", carrier_code)[:2] or "TR").upper(), 12, "")
    )
    seed = hashlib.sha256(f"{carrier_code}:{reference}:{attempt}".encode()).digest()
    number = int.from_bytes(seed[:8], "big") % 10**digits
    return f"{prefix}{number:0{digits}d}{suffix}"


def add_working_days(start: date, days: int) -> date:
    """`days` delivery days after `start`; carriers deliver Monday to Saturday."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() != 6:
            days -= 1
    return current


def _at(day: date, hours: float) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(hours=hours)


def parcel_timeline(parcel: Parcel) -> list[Scan]:
    """Every scan the parcel will get, past and future; the same for the same parcel."""
    rng = Random(hashlib.sha256(parcel.tracking_number.encode()).digest())
    shipped = as_utc(parcel.shipped_at)
    carrier = parcel.carrier_code
    first = FIRST_SCAN.get(carrier, f"{carrier.replace('_', ' ').title()} depot")
    hub = rng.choice(SORTING_CENTRES.get(carrier, (f"{first} sorting centre",)))
    city = parcel.destination_city
    scans: list[Scan] = []

    def add(status: str, at: datetime, location: str | None, description: str) -> None:
        at = at.replace(second=0, microsecond=0)  # carriers scan to the minute
        if scans and at <= scans[-1].occurred_at:
            at = scans[-1].occurred_at + timedelta(minutes=rng.randint(20, 90))
        scans.append(Scan(status, at, location, description))

    add(
        "in_transit", shipped + timedelta(minutes=rng.randint(5, 150)), first, f"Picked up: {first}"
    )
    add(
        "in_transit",
        scans[-1].occurred_at + timedelta(hours=rng.uniform(3, 8)),
        hub,
        "Arrived at sorting centre",
    )
    due = add_working_days(shipped.date(), max(1, parcel.transit_days))
    outcome = rng.random()
    if outcome < 0.05:  # delayed in the network
        delay = rng.choice((1, 1, 2))
        add(
            "exception",
            scans[-1].occurred_at + timedelta(hours=rng.uniform(6, 14)),
            hub,
            "Parcel delayed at sorting centre",
        )
        due = add_working_days(due, delay)
    if parcel.destination_country != "FR":
        add(
            "in_transit",
            _at(add_working_days(shipped.date(), 1), rng.uniform(2, 9)),
            hub,
            f"Left France, in transit to {parcel.destination_country}",
        )
    add(
        "in_transit",
        _at(due, rng.uniform(4, 6.5)),
        f"Delivery site {city}",
        "Arrived at delivery site",
    )
    add("out_for_delivery", _at(due, rng.uniform(7, 9.5)), city, "Out for delivery")
    if 0.05 <= outcome < 0.08:  # nobody home: second attempt the next delivery day
        add(
            "exception",
            _at(due, rng.uniform(11, 17)),
            city,
            "Delivery attempt failed: recipient absent, notice left",
        )
        due = add_working_days(due, 1)
        add(
            "out_for_delivery",
            _at(due, rng.uniform(7, 9.5)),
            city,
            "Out for delivery (second attempt)",
        )
    elif 0.08 <= outcome < 0.095:  # unknown at the address: back to the sender
        add(
            "exception",
            _at(due, rng.uniform(10, 16)),
            city,
            "Address incomplete: carrier contacting recipient",
        )
        add(
            "returned_to_sender",
            _at(add_working_days(due, 8), rng.uniform(9, 12)),
            parcel.origin_city,
            "Returned to sender: recipient unknown at this address",
        )
        return scans
    where = rng.choice(("to the recipient", "in the letterbox", "to the recipient, signed"))
    add("delivered", _at(due, rng.uniform(10, 18)), city, f"Delivered {where}")
    return scans
