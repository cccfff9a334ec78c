"""Sandbox marketplaces: one seller account per connection, with its own orders, buyer
messages and offers, persisted in <data_dir>/sandbox/<connection id>.json.

A sandbox behaves like its marketplace: order numbers and status names in the
marketplace's format, buyers who place orders and write messages over time (derived
deterministically from the account and the hour, so the same hour always brings the same
buyers), listings whose quantity drops when they sell, offers refused for the
marketplace's own reasons, a rate limit answered as 429 with a retry-after, and refused
messages (too long, or giving contact details where the marketplace forbids it). Every
response carries `sandbox: true`. Simulation helpers (`simulate_order`,
`simulate_buyer_message`) play a buyer, as payment providers' test helpers do.
"""

import fcntl
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from db.base import utc_now
from db.models import Marketplace
from tools.base import ProviderError
from tools.marketplace_buyers import QUESTIONS, digits, make_buyer, order_number, poisson
from tools.marketplace_connectors import (
    PROFILES,
    Acknowledgement,
    OfferDecision,
    OfferRequest,
    RateLimited,
    RemoteLine,
    RemoteMessage,
    RemoteOrder,
    SentMessage,
    ShippingAddress,
    StockItem,
    StockOutcome,
    offer_refusal,
)

FIRST_CONTACT = timedelta(hours=6)  # buyer activity a new sandbox account starts with
MAX_CATCH_UP = timedelta(hours=48)  # an idle account replays at most this much activity
KEEP_ORDERS, KEEP_MESSAGES = 500, 1000
BUYER_POOL = 4000  # buyers per marketplace; some come back and order again

CONTACT_DETAILS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|https?://|www\.", re.IGNORECASE)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SandboxMarketplace:
    """The sandbox seller account of one connection (implements `Connector`)."""

    sandbox = True

    def __init__(
        self,
        *,
        connection_id: int,
        marketplace: Marketplace,
        seller_id: str,
        data_dir: Path,
        simulate_buyers: bool = True,
        initial_listings: Callable[[], dict[str, dict[str, Any]]] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.connection_id = connection_id
        self.marketplace = marketplace
        self.seller_id = seller_id
        self.profile = PROFILES[marketplace]
        self.label = f"{self.profile.label} sandbox"
        self.simulate_buyers = simulate_buyers
        self.initial_listings = initial_listings
        self.clock = clock
        self.path = data_dir / "sandbox" / f"{connection_id}.json"

    # -- the Connector interface ---------------------------------------------------------

    def fetch_orders(self, since: datetime | None) -> list[RemoteOrder]:
        with self._account(throttled=True) as state:
            orders = [
                self._remote(order)
                for order in state["orders"].values()
                if order["lines"] and (since is None or _at(order["placed_at"]) > since)
            ]
        return sorted(orders, key=lambda o: (o.placed_at, o.external_order_id))

    def acknowledge_order(self, external_order_id: str) -> Acknowledgement:
        with self._account(throttled=True) as state:
            order = state["orders"].get(external_order_id)
            if order is None:
                self._require_known(external_order_id)
                # An order from before this sandbox file: the account's order book is
                # derived from the order number, so its buyer is always the same.
                buyer = self._buyer(Random(f"buyer|{self.seller_id}|{external_order_id}"))
                order = {
                    "id": external_order_id,
                    "status": self.profile.status_new,
                    "placed_at": _iso(self.clock()),
                    "buyer": buyer,
                    "lines": [],
                    "shipping_service": "standard",
                    "shipping_cents": 0,
                }
                state["orders"][external_order_id] = order
            if order["status"] == self.profile.status_cancelled:
                why = order.get("cancel_reason") or "cancelled by the buyer before acceptance"
                raise ProviderError(
                    f"{self.label}: order {external_order_id} was {why}; there is nothing to ship",
                    code="order_cancelled",
                )
            order["status"] = self.profile.status_accepted
            order["acknowledged_at"] = _iso(self.clock())
            return Acknowledgement(
                external_order_id=external_order_id,
                status=order["status"],
                shipping_address=ShippingAddress(**order["buyer"]["address"]),
            )

    def push_stock(self, items: list[StockItem]) -> list[StockOutcome]:
        with self._account(throttled=True) as state:
            outcomes = []
            for item in items:
                listing = state["listings"].get(item.sku)
                if listing is None or listing["status"] == "refused":
                    outcomes.append(
                        StockOutcome(
                            sku=item.sku,
                            quantity=item.quantity,
                            outcome="not_listed",
                            message=f"{self.label}: no live offer for SKU {item.sku}",
                        )
                    )
                    continue
                before = listing["quantity"]
                listing["quantity"] = item.quantity
                listing["updated_at"] = _iso(self.clock())
                outcomes.append(
                    StockOutcome(
                        sku=item.sku,
                        quantity=item.quantity,
                        outcome="unchanged" if before == item.quantity else "updated",
                        message=f"{self.label}: offer {listing['offer_id']} quantity "
                        f"{before} -> {item.quantity}",
                    )
                )
            return outcomes

    def fetch_messages(self, since: datetime | None) -> list[RemoteMessage]:
        with self._account(throttled=True) as state:
            return [
                RemoteMessage(
                    external_id=m["id"],
                    external_order_id=m["order_id"],
                    author=m["author"],
                    subject=m["subject"],
                    body=m["body"],
                    sent_at=_at(m["sent_at"]),
                )
                for m in state["messages"]
                if m["direction"] == "inbound" and (since is None or _at(m["sent_at"]) > since)
            ]

    def send_message(self, external_order_id: str, subject: str, body: str) -> SentMessage:
        with self._account(throttled=True) as state:
            if external_order_id not in state["orders"]:
                self._require_known(external_order_id)
            limit = self.profile.message_max_chars
            if len(body) > limit:
                raise ProviderError(
                    f"{self.label} refused the message: {len(body)} characters, {limit} at most",
                    code="message_rejected",
                    field="body",
                )
            found = CONTACT_DETAILS.search(body)
            if self.profile.no_contact_details and found:
                raise ProviderError(
                    f"{self.label} refused the message: e-mail addresses and links are "
                    f"not allowed in buyer messages (found {found.group(0)!r})",
                    code="message_rejected",
                    field="body",
                )
            now = self.clock()
            message_id = f"{self.profile.message_prefix}-{secrets.randbelow(10**10):010d}"
            state["messages"].append(
                {
                    "id": message_id,
                    "order_id": external_order_id,
                    "direction": "outbound",
                    "author": self.seller_id,
                    "subject": subject,
                    "body": body,
                    "sent_at": _iso(now),
                }
            )
            return SentMessage(external_id=message_id, sent_at=now)

    def create_offer(self, offer: OfferRequest) -> OfferDecision:
        with self._account(throttled=True) as state:
            reason = offer_refusal(self.profile, offer)
            listing = state["listings"].get(offer.sku)
            if reason:
                if listing is None:
                    state["listings"][offer.sku] = {
                        "offer_id": None,
                        "price_cents": offer.price_cents,
                        "quantity": 0,
                        "status": "refused",
                        "updated_at": _iso(self.clock()),
                    }
                return OfferDecision(
                    accepted=False,
                    external_offer_id=None,
                    status=self.profile.offer_refused,
                    reason=reason,
                )
            if listing is None or not listing["offer_id"]:
                state["counters"]["offer"] += 1
                offer_id = f"{self.profile.offer_prefix}-{state['counters']['offer']:07d}"
            else:
                offer_id = listing["offer_id"]
            state["listings"][offer.sku] = {
                "offer_id": offer_id,
                "price_cents": offer.price_cents,
                "quantity": offer.quantity,
                "status": "active",
                "updated_at": _iso(self.clock()),
            }
            return OfferDecision(
                accepted=True, external_offer_id=offer_id, status=self.profile.offer_active
            )

    # -- buyer simulation helpers (sandbox only) -----------------------------------------

    def simulate_order(
        self,
        sku: str,
        *,
        quantity: int = 1,
        unit_price_cents: int | None = None,
        buyer_email: str | None = None,
        country: str | None = None,
        shipping_cents: int = 0,
        cancelled: bool = False,
    ) -> RemoteOrder:
        """A buyer places an order now (not rate-limited: it is the buyer's call)."""
        with self._account(throttled=False) as state:
            listing = state["listings"].get(sku)
            price = unit_price_cents or (listing["price_cents"] if listing else None)
            if price is None:
                raise ProviderError(f"{self.label}: SKU {sku} is not listed; give a price")
            rng = Random(secrets.randbits(64))
            buyer = self._buyer(rng, country=country)
            if buyer_email:
                buyer["email"] = buyer_email
            number = order_number(self.marketplace, digits(secrets.token_hex(16)))
            order = {
                "id": number,
                "status": self.profile.status_cancelled if cancelled else self.profile.status_new,
                "cancel_reason": "cancelled by the buyer before acceptance" if cancelled else None,
                "placed_at": _iso(self.clock()),
                "buyer": buyer,
                "lines": [{"sku": sku, "quantity": quantity, "unit_price_cents": price}],
                "shipping_service": "standard",
                "shipping_cents": shipping_cents,
            }
            state["orders"][number] = order
            return self._remote(order)

    def simulate_buyer_message(self, external_order_id: str, subject: str, body: str) -> None:
        """The buyer of an order writes to the seller now."""
        with self._account(throttled=False) as state:
            state["messages"].append(
                {
                    "id": f"{self.profile.message_prefix}-{secrets.randbelow(10**10):010d}",
                    "order_id": external_order_id,
                    "direction": "inbound",
                    "author": f"buyer of order {external_order_id}",
                    "subject": subject,
                    "body": body,
                    "sent_at": _iso(self.clock()),
                }
            )

    def snapshot(self) -> dict[str, Any]:
        """The account as stored (orders, messages, listings), read-only."""
        with self._account(throttled=False) as state:
            return json.loads(json.dumps(state))

    # -- the account file ----------------------------------------------------------------

    @contextmanager
    def _account(self, *, throttled: bool) -> Iterator[dict[str, Any]]:
        """Load the account under an exclusive file lock, play buyer activity up to now,
        and save it back atomically when the call succeeds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self._load()
                now = self.clock()
                if throttled:
                    try:
                        self._throttle(state, now)
                    finally:
                        self._save(state)  # the call counts, refused or not
                self._play(state, now)
                yield state
                self._save(state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        if self.path.exists():
            state: dict[str, Any] = json.loads(self.path.read_text())
            if (state.get("marketplace"), state.get("seller_id")) == (
                self.marketplace.value,
                self.seller_id,
            ):
                return state
        now = self.clock()
        return {
            "sandbox": True,
            "marketplace": self.marketplace.value,
            "seller_id": self.seller_id,
            "connection_id": self.connection_id,
            "opened_at": _iso(now),
            "clock": _iso(now - FIRST_CONTACT),
            "rate": {"tokens": float(self.profile.burst), "at": now.timestamp()},
            "counters": {"offer": 1_000_000},
            "orders": {},
            "messages": [],
            "listings": self.initial_listings() if self.initial_listings else {},
        }

    def _save(self, state: dict[str, Any]) -> None:
        orders = sorted(state["orders"].values(), key=lambda o: o["placed_at"])
        state["orders"] = {o["id"]: o for o in orders[-KEEP_ORDERS:]}
        state["messages"] = state["messages"][-KEEP_MESSAGES:]
        scratch = self.path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(state, ensure_ascii=False, indent=1))
        os.replace(scratch, self.path)

    def _throttle(self, state: dict[str, Any], now: datetime) -> None:
        """A token bucket: `burst` calls at once, `refill_per_s` regained per second. Calls
        made while limited count too (down to -burst): hammering extends the back-off."""
        rate, burst = self.profile.refill_per_s, self.profile.burst
        bucket = state["rate"]
        tokens = min(burst, bucket["tokens"] + (now.timestamp() - bucket["at"]) * rate)
        bucket["at"] = now.timestamp()
        if tokens < 1:
            bucket["tokens"] = max(-burst, tokens - 1)
            retry = max(1, math.ceil((1 - bucket["tokens"]) / rate))
            raise RateLimited(
                f"{self.label} answered 429 Too Many Requests for seller {self.seller_id}: "
                f"at most {burst} calls at once and {rate:g} per second; "
                f"retry after {retry} s",
                retry_after=retry,
            )
        bucket["tokens"] = tokens - 1

    def _require_known(self, external_order_id: str) -> None:
        if not self.profile.order_id.match(external_order_id):
            raise ProviderError(
                f"{self.label} has no order {external_order_id!r} for seller {self.seller_id}",
                code="unknown_order",
            )

    # -- buyers --------------------------------------------------------------------------

    def _remote(self, order: dict[str, Any]) -> RemoteOrder:
        lines = [RemoteLine(**line) for line in order["lines"]]
        return RemoteOrder(
            external_order_id=order["id"],
            status=order["status"],
            cancelled=order["status"] == self.profile.status_cancelled,
            cancel_reason=order.get("cancel_reason"),
            placed_at=_at(order["placed_at"]),
            buyer_email=order["buyer"]["email"],
            buyer_name=order["buyer"]["address"]["full_name"],
            shipping_country=order["buyer"]["address"]["country"],
            shipping_service=order["shipping_service"],
            shipping_cents=order["shipping_cents"],
            total_cents=sum(li.quantity * li.unit_price_cents for li in lines)
            + order["shipping_cents"],
            lines=lines,
        )

    def _expire(self, state: dict[str, Any], now: datetime) -> None:
        """Orders cancelled before acceptance: by their buyer, or by the marketplace when
        the seller did not accept them within its acceptance window."""
        hours = self.profile.acceptance_hours
        for order in state["orders"].values():
            if order["status"] != self.profile.status_new:
                continue
            cancel_at = order.get("cancel_at")
            if cancel_at and _at(cancel_at) <= now:
                order["status"] = self.profile.status_cancelled
                order["cancel_reason"] = "cancelled by the buyer before acceptance"
            elif hours and _at(order["placed_at"]) + timedelta(hours=hours) <= now:
                order["status"] = self.profile.status_cancelled
                order["cancel_reason"] = (
                    f"cancelled by {self.profile.label}: not accepted within {hours} h"
                )

    def _buyer(self, rng: Random, country: str | None = None) -> dict[str, Any]:
        return make_buyer(self.marketplace, self.profile.countries, rng, country)

    def _play(self, state: dict[str, Any], now: datetime) -> None:
        """Buyer activity from the account's clock up to now (new orders and messages
        about recent orders), then the cancellations due by now."""
        start = max(_at(state["clock"]), now - MAX_CATCH_UP)
        state["clock"] = _iso(now)
        if self.simulate_buyers and start < now:
            for slot in range(int(start.timestamp() // 3600), int(now.timestamp() // 3600) + 1):
                self._play_orders(state, slot, start, now)
                self._play_messages(state, slot, start, now)
        self._expire(state, now)

    def _play_orders(
        self, state: dict[str, Any], slot: int, start: datetime, now: datetime
    ) -> None:
        key = f"{self.marketplace.value}|{self.seller_id}|{slot}"
        rng = Random(f"orders|{key}")
        for index in range(poisson(rng, self.profile.orders_per_hour)):
            # Draw everything first, so an order is the same whatever the listings are.
            at = datetime.fromtimestamp(slot * 3600 + rng.uniform(0, 3600), UTC)
            pick, two, express, cancel = rng.random(), rng.random(), rng.random(), rng.random()
            regular = rng.randrange(BUYER_POOL)
            buyer = self._buyer(
                Random(f"buyer|{self.marketplace.value}|{self.seller_id}|{regular}")
            )
            number = order_number(self.marketplace, digits(f"{key}|{index}"))
            if not start < at <= now or number in state["orders"]:
                continue
            listed = sorted(
                sku
                for sku, listing in state["listings"].items()
                if listing["status"] == "active" and listing["quantity"] > 0
            )
            if not listed:
                continue
            sku = listed[int(pick * len(listed))]
            listing = state["listings"][sku]
            quantity = 2 if two < 0.05 and listing["quantity"] >= 2 else 1
            listing["quantity"] -= quantity
            state["orders"][number] = {
                "id": number,
                "status": self.profile.status_new,
                "placed_at": _iso(at),
                "buyer": buyer,
                "lines": [
                    {"sku": sku, "quantity": quantity, "unit_price_cents": listing["price_cents"]}
                ],
                "shipping_service": "express" if express < 0.1 else "standard",
                "shipping_cents": 990 if express < 0.1 else 0,
                "cancel_at": _iso(at + timedelta(minutes=20)) if cancel < 0.03 else None,
            }

    def _play_messages(
        self, state: dict[str, Any], slot: int, start: datetime, now: datetime
    ) -> None:
        rng = Random(f"messages|{self.marketplace.value}|{self.seller_id}|{slot}")
        for _ in range(poisson(rng, self.profile.messages_per_hour)):
            at = datetime.fromtimestamp(slot * 3600 + rng.uniform(0, 3600), UTC)
            pick, topic = rng.random(), rng.randrange(len(QUESTIONS))
            message_id = f"{self.profile.message_prefix}-{rng.getrandbits(32):010d}"
            if not start < at <= now or any(m["id"] == message_id for m in state["messages"]):
                continue
            recent = sorted(
                (o["placed_at"], o["id"])
                for o in state["orders"].values()
                if o["lines"] and at - timedelta(days=14) < _at(o["placed_at"]) < at
            )
            if not recent:
                continue
            order_id = recent[int(pick * len(recent))][1]
            subject, body = QUESTIONS[topic]
            state["messages"].append(
                {
                    "id": message_id,
                    "order_id": order_id,
                    "direction": "inbound",
                    "author": f"buyer of order {order_id}",
                    "subject": subject,
                    "body": body,
                    "sent_at": _iso(at),
                }
            )
