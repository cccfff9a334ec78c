"""A year of trading, order by order, in time order: each order's whole life is decided when
it is placed (payment, fraud check, shipping, delivery, return, survey), and only what has
happened by the demo's "now" is written."""

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from random import Random
from typing import Any

from db.bulk import BulkWriter
from db.demo import catalogue as c
from db.demo.customers import CustomerFactory, DemoCustomer, zone_of
from db.demo.reference import Reference, Variant
from db.demo.texts import (
    COMPLAINTS,
    MARKETPLACE_QUESTIONS,
    QUESTIONS,
    RETURN_COMMENTS,
    SURVEY_COMMENTS,
    WARRANTY_FAULTS,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DISPOSABLE_DOMAINS = ("yopmail.com", "guerrillamail.com")
# Addresses a small fraud ring orders from, account after account.
RING_IPS = ("185.220.101.34", "185.220.101.87", "45.142.212.9", "91.219.236.18")
RETURN_REASONS = (
    ("changed_mind", 34),
    ("defective", 20),
    ("not_as_described", 15),
    ("damaged_in_transit", 10),
    ("wrong_item", 5),
    ("other", 16),
)
SURVEY_SCORES = ((5, 45), (4, 30), (3, 12), (2, 7), (1, 6))
CARRIER_CHOICE = {
    ("FR", "standard"): (("colissimo", 55), ("dpd", 30), ("colis_prive", 15)),
    ("FR", "express"): (("chronopost", 80), ("ups", 20)),
    ("EU", "standard"): (("dpd", 50), ("ups", 30), ("colissimo", 20)),
    ("EU", "express"): (("fedex", 60), ("chronopost", 40)),
    ("EUROPE", "standard"): (("ups", 100),),
    ("EUROPE", "express"): (("fedex", 100),),
}
FIRST_CARRIER_SCAN = {
    "colissimo": "Plateforme Colissimo",
    "chronopost": "Agence Chronopost",
    "dpd": "Hub DPD",
    "colis_prive": "Centre Colis Privé",
    "ups": "UPS hub",
    "fedex": "FedEx hub",
}


def weighted(rng: Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([value for value, _ in pairs], weights=[w for _, w in pairs])[0]


@dataclass
class Stock:
    """Running stock of one SKU in one warehouse while the history is written."""

    on_hand: int
    committed: int  # promised to orders placed but not yet shipped
    reorder_point: int
    reorder_quantity: int
    arrival_at: datetime | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.committed


@dataclass
class Line:
    id: int
    variant: Variant
    quantity: int
    unit_cents: int
    discount_cents: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_cents - self.discount_cents


@dataclass
class DailyStats:
    orders: int = 0
    cancelled: int = 0


@dataclass
class HistoryResult:
    anomalies: list[dict[str, Any]] = field(default_factory=list)


class OrderHistory:
    def __init__(
        self,
        writer: BulkWriter,
        rng: Random,
        ref: Reference,
        customers: CustomerFactory,
        start: datetime,
        now: datetime,
    ) -> None:
        self.w = writer
        self.rng = rng
        self.ref = ref
        self.customers = customers
        self.start = start
        self.now = now
        self.ids: dict[str, int] = defaultdict(int)
        self.stock: dict[tuple[int, int], Stock] = {}
        self.customer_orders: dict[int, deque[tuple[datetime, int]]] = defaultdict(
            lambda: deque(maxlen=20)
        )
        self.loyalty: dict[int, int] = defaultdict(int)
        self.blocked: dict[str, int] = {}
        self.ip_customers: dict[str, list[int]] = defaultdict(list)
        self.daily: dict[int, DailyStats] = defaultdict(DailyStats)
        self.outage_day = (now - timedelta(days=23)).date()
        self.variant_weights = list(accumulate(v.popularity for v in ref.variants))
        self.channel_pairs = (
            ("shop", c.SHOP_SHARE),
            *((m, share) for m, *_, share in c.MARKETPLACE_CONNECTIONS),
        )
        self.channel_weights = list(accumulate(share for _, share in self.channel_pairs))
        self.warehouse_codes = [code for code, *_ in c.WAREHOUSES]
        self.warehouse_weights = list(accumulate(self.ref.warehouse_shares))
        self.staff_support = ref.staff_emails["support"]
        self.staff_managers = ref.staff_emails["manager"]

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # -- stock -------------------------------------------------------------------------

    def open_stock(self, expected_orders: int) -> None:
        """Opening stock a year ago, sized from how fast each SKU is expected to sell."""
        total_weight = self.variant_weights[-1]
        lines_per_day = expected_orders * 1.4 / 365
        for variant in self.ref.variants:
            share = variant.popularity / total_weight
            for code, wh_share in zip(self.warehouse_codes, self.ref.warehouse_shares, strict=True):
                small = code not in ("LYS", "PAR")
                if small and share < 0.6 / len(self.ref.variants):
                    continue  # small warehouses only stock the sellers
                daily = lines_per_day * share * wh_share
                point = max(2, math.ceil(daily * 7))
                quantity = max(5, math.ceil(daily * 21))
                opening = self.rng.randint(quantity, quantity * 2)
                warehouse_id = self.ref.warehouse_ids[code]
                self.stock[(variant.id, warehouse_id)] = Stock(0, 0, point, quantity)
                self._inbound(variant, warehouse_id, opening, self.start - DAY, "opening stock")

    def _inbound(
        self, variant: Variant, warehouse_id: int, quantity: int, at: datetime, reason: str
    ) -> None:
        movement_id = self.next_id("stock_movements")
        reference = f"PO-{at:%Y%m%d}-{movement_id:06d}"
        self.stock[(variant.id, warehouse_id)].on_hand += quantity
        self.w.add(
            "stock_movements",
            {
                "id": movement_id,
                "variant_id": variant.id,
                "warehouse_id": warehouse_id,
                "kind": "inbound",
                "quantity": quantity,
                "reason": reason,
                "reference": reference,
                "created_by": "thomas.bernard@maison-lumen.fr",
                "created_at": at,
            },
        )
        if variant.refurbished and reason != "opening stock" and self.rng.random() < 0.35:
            self._batch_inspection(variant, warehouse_id, quantity, at, reference)

    def _take(self, variant: Variant, warehouse_id: int, quantity: int, at: datetime) -> None:
        """Promise stock to an order, receiving a supplier delivery first when it is short."""
        stock = self.stock[(variant.id, warehouse_id)]
        if stock.arrival_at is not None and stock.arrival_at <= at:
            self._inbound(
                variant, warehouse_id, stock.reorder_quantity, stock.arrival_at, "supplier delivery"
            )
            stock.arrival_at = None
        if stock.available < quantity:  # rush order from the supplier
            self._inbound(
                variant,
                warehouse_id,
                max(quantity, stock.reorder_quantity),
                at - timedelta(hours=self.rng.randint(2, 20)),
                "urgent supplier delivery",
            )
            stock.arrival_at = None
        stock.committed += quantity
        if stock.available < stock.reorder_point and stock.arrival_at is None:
            stock.arrival_at = at + timedelta(days=self.rng.uniform(3, 7))

    def _ship_stock(self, line: Line, warehouse_id: int, at: datetime, order_id: int) -> None:
        stock = self.stock[(line.variant.id, warehouse_id)]
        stock.committed -= line.quantity
        stock.on_hand -= line.quantity
        self.w.add(
            "stock_movements",
            {
                "id": self.next_id("stock_movements"),
                "variant_id": line.variant.id,
                "warehouse_id": warehouse_id,
                "kind": "outbound",
                "quantity": -line.quantity,
                "reason": "order shipped",
                "reference": f"order:{order_id}",
                "created_by": "system:warehouse",
                "created_at": at,
            },
        )

    def _fulfilling_warehouse(self, variants: list[Variant], country: str) -> int:
        code = (
            "LYS"
            if country != "FR"
            else self.rng.choices(self.warehouse_codes, cum_weights=self.warehouse_weights)[0]
        )
        warehouse_id = self.ref.warehouse_ids[code]
        if all((v.id, warehouse_id) in self.stock for v in variants):
            return warehouse_id
        return self.ref.warehouse_ids["LYS"]

    # -- orders ------------------------------------------------------------------------

    def run(self, count: int, progress: Callable[[int], None] | None = None) -> HistoryResult:
        span = (self.now - self.start).total_seconds()
        # Busier in November-December and at weekends' evenings, growing over the year.
        moments: list[datetime] = []
        while len(moments) < count:
            moment = self.start + timedelta(seconds=self.rng.random() * span)
            busy = 1.0 + 0.6 * (moment.month in (11, 12)) + 0.25 * (moment.weekday() >= 5)
            growth = 0.7 + 0.6 * (moment - self.start).total_seconds() / span
            if self.rng.random() < busy * growth / 2.2:
                moments.append(moment)
        moments.sort()
        for number, placed_at in enumerate(moments, start=1):
            self._order(placed_at)
            if progress and number % 1000 == 0:
                progress(1000)
        if progress:
            progress(count % 1000)
        self._arrivals_due()
        return HistoryResult(anomalies=self._outage_anomaly())

    def _arrivals_due(self) -> None:
        for (variant_id, warehouse_id), stock in self.stock.items():
            if stock.arrival_at is not None and stock.arrival_at <= self.now:
                variant = self.ref.variants[variant_id - 1]
                self._inbound(
                    variant,
                    warehouse_id,
                    stock.reorder_quantity,
                    stock.arrival_at,
                    "supplier delivery",
                )
                stock.arrival_at = None

    def _order(self, placed_at: datetime) -> None:
        rng = self.rng
        channel = rng.choices(self.channel_pairs, cum_weights=self.channel_weights)[0][0]
        attempt = channel == "shop" and rng.random() < 0.004
        if attempt:
            customer = self.customers.make(
                placed_at - timedelta(minutes=rng.randint(3, 90)), suspicious=True
            )
        else:
            customer = self.customers.pick(placed_at)
        ip = rng.choice(RING_IPS) if attempt else self._ip(customer)
        if self._is_blocked(customer, ip):
            if attempt:
                return  # refused at checkout: the order never existed
            customer = self.customers.pick(placed_at)
            ip = self._ip(customer)
            if self._is_blocked(customer, ip):
                return
        order_id = self.next_id("orders")
        variants = self._basket(attempt)
        warehouse_id = self._fulfilling_warehouse(variants, customer.country)
        lines = self._lines(variants, channel, attempt)
        zone = zone_of(customer.country)
        express = rng.random() < (0.12 if channel == "shop" else 0.04)
        service = "express" if express else "standard"
        subtotal = sum(line.quantity * line.unit_cents for line in lines)
        discount = sum(line.discount_cents for line in lines)
        shipping = 0
        if channel == "shop":
            if express:
                shipping = 1290
            elif subtotal - discount < 5000:
                shipping = 490 if zone == "FR" else 1290
        total = subtotal - discount + shipping
        day = self.daily[(placed_at.date() - self.start.date()).days]
        day.orders += 1

        history: list[tuple[str | None, str, datetime, str, str | None]] = [
            (
                None,
                "pending",
                placed_at,
                "customer" if channel == "shop" else f"system:{channel}",
                None,
            )
        ]
        times: dict[str, datetime] = {}
        cancel: tuple[datetime, str, str] | None = None  # when, reason, by whom
        payment_failure: tuple[str, str] | None = None
        fraud = (
            self._fraud_check(order_id, customer, total, placed_at, ip)
            if channel == "shop"
            else None
        )

        transfer = channel == "shop" and rng.random() < 0.08
        if fraud == "block":
            cancel = (placed_at + timedelta(minutes=1), "blocked by fraud check", "system:fraud")
        elif transfer and rng.random() < 0.2:
            cancel = (
                placed_at + 7 * DAY,
                "bank transfer not received within 7 days",
                "system:payments",
            )
        elif not transfer and channel == "shop" and self._payment_fails(placed_at):
            payment_failure = rng.choice(
                (
                    ("card_declined", "The card was declined."),
                    ("insufficient_funds", "Insufficient funds."),
                )
            )
            cancel = (
                placed_at + timedelta(minutes=rng.randint(20, 40)),
                "payment failed",
                "system:payments",
            )
        else:
            times["paid"] = placed_at + timedelta(minutes=rng.randint(1, 6))
            if channel != "shop":
                times["paid"] = placed_at  # the marketplace has collected the payment
            elif transfer:
                times["paid"] = placed_at + timedelta(hours=rng.uniform(12, 120))
            if fraud == "review":
                reviewer = rng.choice(self.staff_managers)
                decided = times["paid"] + timedelta(minutes=rng.randint(20, 240))
                if rng.random() < 0.35:
                    cancel = (decided, "cancelled after fraud review", reviewer)
                else:
                    times["processing"] = decided
            if cancel is None:
                times.setdefault("processing", times["paid"] + timedelta(hours=rng.uniform(0.3, 6)))
                times["shipped"] = times["processing"] + timedelta(hours=rng.uniform(2, 30))
                if rng.random() < 0.025:
                    cancel_at = times["paid"] + timedelta(hours=rng.uniform(0.2, 8))
                    if cancel_at < times["shipped"]:
                        cancel = (
                            cancel_at,
                            "customer changed their mind",
                            rng.choice(self.staff_support),
                        )
                        del times["shipped"]

        if cancel and cancel[0] > self.now:
            cancel = None
        times = {step: at for step, at in times.items() if at <= self.now}
        # Stock is promised when the order is placed, unless the order never goes ahead.
        keeps_stock = cancel is None or "shipped" in times
        if keeps_stock:
            for line in lines:
                self._take(line.variant, warehouse_id, line.quantity, placed_at)

        rate = None
        if "shipped" in times:
            carrier = weighted(rng, CARRIER_CHOICE[(zone, service)])
            weight = sum(line.quantity * line.variant.weight_grams for line in lines) + 150
            rate = self._rate(carrier, zone, service, weight)
            delay = timedelta(days=rng.choice((1, 2, 3))) if rng.random() < 0.08 else timedelta(0)
            delivered_at = (times["shipped"] + timedelta(days=rate[1]) + delay).replace(
                hour=rng.randint(9, 18), minute=rng.randint(0, 59)
            )
            if delivered_at <= self.now:
                times["delivered"] = delivered_at

        if cancel:
            day.cancelled += 1
        status = self._status(times, cancel)
        paid_at = times.get("paid")
        order_row = self.w.add(
            "orders",
            {
                "id": order_id,
                "customer_id": customer.id,
                "status": status,
                "channel": channel,
                "marketplace_connection_id": self.ref.connection_ids.get(channel),
                "warehouse_id": warehouse_id,
                "shipping_address_id": customer.shipping_address_id,
                "billing_address_id": customer.billing_address_id,
                "shipping_service": service,
                "currency": "EUR",
                "subtotal_cents": subtotal,
                "discount_cents": discount,
                "shipping_cents": shipping,
                "tax_cents": round(total / 6),
                "total_cents": total,
                "ip_address": ip if channel == "shop" else None,
                "note": None,
                "cancel_reason": cancel[1] if cancel else None,
                "placed_at": placed_at,
                "paid_at": paid_at,
                "shipped_at": times.get("shipped"),
                "delivered_at": times.get("delivered"),
                "cancelled_at": cancel[0] if cancel else None,
                "updated_at": max([placed_at, *times.values(), *([cancel[0]] if cancel else [])]),
            },
        )
        for line in lines:
            self.w.add(
                "order_lines",
                {
                    "id": line.id,
                    "order_id": order_id,
                    "variant_id": line.variant.id,
                    "sku": line.variant.sku,
                    "name": line.variant.name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_cents,
                    "discount_cents": line.discount_cents,
                    "vat_rate_bp": 2000,
                    "tax_cents": round(line.total_cents / 6),
                    "total_cents": line.total_cents,
                },
            )
        previous = "pending"
        for step in ("paid", "processing", "shipped", "delivered"):
            if step in times:
                by = {
                    "paid": "system:payments",
                    "processing": "system:warehouse",
                    "shipped": "system:warehouse",
                    "delivered": "system:carrier",
                }[step]
                history.append((previous, step, times[step], by, None))
                previous = step
        if cancel:
            history.append((previous, "cancelled", cancel[0], cancel[2], cancel[1]))

        payment = (
            None
            if fraud == "block"
            else self._payment(
                order_id,
                customer,
                channel,
                total,
                placed_at,
                paid_at,
                payment_failure,
                transfer,
                cancel,
            )
        )
        refunds: list[tuple[int, datetime]] = []
        if cancel and payment and paid_at:
            refunds.append(
                self._refund(payment, order_id, None, total, cancel[0], cancel[1], cancel[2])
            )
        self._reservations(order_id, lines, warehouse_id, placed_at, status, cancel)
        if channel != "shop":
            self._marketplace_order(order_id, channel, customer, lines, total, placed_at, status)
        if "shipped" in times and rate is not None:
            for line in lines:
                self._ship_stock(line, warehouse_id, times["shipped"], order_id)
            self._shipment(order_id, warehouse_id, times, rate, lines, service)
        if "delivered" in times:
            refunds += self._after_delivery(
                order_id, customer, lines, shipping, times, payment, warehouse_id, history
            )
        if history[-1][1] == "returned":
            order_row.update(status="returned", updated_at=history[-1][2])
        if channel == "shop" and paid_at:
            self._loyalty(customer, order_id, total - shipping, refunds, paid_at)
        if rng.random() < 0.06:
            self._interaction(customer, order_id, placed_at, times)
        for from_status, to_status, at, by, reason in history:
            self.w.add(
                "order_status_history",
                {
                    "id": self.next_id("order_status_history"),
                    "order_id": order_id,
                    "from_status": from_status,
                    "to_status": to_status,
                    "reason": reason,
                    "changed_by": by,
                    "created_at": at,
                },
            )
        self.customer_orders[customer.id].append((placed_at, total))
        self.ip_customers[ip].append(customer.id)
        self.w.flush_if_full()

    def _status(self, times: dict[str, datetime], cancel: tuple | None) -> str:
        if cancel:
            return "cancelled"
        for status in ("delivered", "shipped", "processing", "paid"):
            if status in times:
                return status
        return "pending"

    def _basket(self, attempt: bool) -> list[Variant]:
        rng = self.rng
        if attempt:  # fraudsters go for expensive, resellable goods
            expensive = [v for v in self.ref.variants if v.price_cents > 60000]
            return rng.sample(expensive, rng.choice((1, 2)))
        size = weighted(rng, ((1, 70), (2, 22), (3, 8)))
        chosen: list[Variant] = []
        while len(chosen) < size:
            variant = rng.choices(self.ref.variants, cum_weights=self.variant_weights)[0]
            if variant not in chosen:
                chosen.append(variant)
        return chosen

    def _lines(self, variants: list[Variant], channel: str, attempt: bool) -> list[Line]:
        rng = self.rng
        promo = channel == "shop" and rng.random() < 0.08
        lines = []
        for variant in variants:
            quantity = 1
            if variant.price_cents < 5000 and rng.random() < 0.3:
                quantity = rng.randint(2, 3)
            if attempt:
                quantity = rng.randint(1, 3)
            discount = round(quantity * variant.price_cents * 0.1) if promo else 0
            lines.append(
                Line(self.next_id("order_lines"), variant, quantity, variant.price_cents, discount)
            )
        return lines

    def _payment_fails(self, placed_at: datetime) -> bool:
        # One day a payment provider outage makes many payments fail: the risk agent's
        # anomaly detection should find it, and a resolved risk alert records it.
        if placed_at.date() == self.outage_day and 9 <= placed_at.hour < 16:
            return self.rng.random() < 0.45
        return self.rng.random() < 0.025

    def _ip(self, customer: DemoCustomer) -> str:
        return (
            f"{80 + customer.id % 100}.{(customer.id * 7) % 250}."
            f"{(customer.id * 13) % 250}.{(customer.id * 31) % 250 + 1}"
        )

    def _rate(self, carrier: str, zone: str, service: str, weight: int) -> tuple[int, int, str]:
        lines = self.ref.rates[(carrier, zone, service)]
        for max_grams, price, days in lines:
            if weight <= max_grams:
                return price, days, carrier
        return lines[-1][1], lines[-1][2], carrier

    # -- fraud -------------------------------------------------------------------------

    def _is_blocked(self, customer: DemoCustomer, ip: str) -> bool:
        return f"email:{customer.email}" in self.blocked or f"ip:{ip}" in self.blocked

    def _fraud_check(
        self, order_id: int, customer: DemoCustomer, total: int, placed_at: datetime, ip: str
    ) -> str:
        signals = []
        past = self.customer_orders[customer.id]
        if past:
            average = sum(amount for _, amount in past) / len(past)
            if total > 3 * average and total > 30000:
                signals.append(
                    (
                        "amount_vs_history",
                        25,
                        f"{total / 100:.2f} EUR is {total / average:.1f}x the customer's "
                        f"average of {average / 100:.2f} EUR",
                    )
                )
        elif total > 100000:
            signals.append(("large_first_order", 20, f"first order of {total / 100:.2f} EUR"))
        recent = sum(1 for at, _ in past if placed_at - at < DAY)
        if recent >= 2:
            signals.append(("velocity_24h", 25, f"{recent + 1} orders in 24 hours"))
        if customer.billing_country != customer.country:
            signals.append(
                (
                    "address_mismatch",
                    20,
                    f"billing in {customer.billing_country}, shipping to {customer.country}",
                )
            )
        age = placed_at - customer.created_at
        if age < DAY:
            signals.append(
                (
                    "new_account",
                    20,
                    f"account created {int(age.total_seconds() // 60)} minutes before the order",
                )
            )
        elif age < 7 * DAY:
            signals.append(("recent_account", 10, f"account {age.days} days old"))
        if customer.email.split("@")[1] in DISPOSABLE_DOMAINS:
            signals.append(("disposable_email", 15, "disposable e-mail domain"))
        others = [other for other in self.ip_customers[ip] if other != customer.id]
        if others:
            signals.append(
                (
                    "shared_ip",
                    25,
                    f"IP address {ip} also used by {len(set(others))} other customer account(s)",
                )
            )
        score = min(100, sum(weight for _, weight, _ in signals))
        decision = (
            "block"
            if score >= 80
            else "review"
            if score >= 50
            else "flag"
            if score >= 30
            else "allow"
        )
        self.w.add(
            "fraud_checks",
            {
                "id": self.next_id("fraud_checks"),
                "order_id": order_id,
                "customer_id": customer.id,
                "score": score,
                "decision": decision,
                "signals": [
                    {"signal": name, "weight": weight, "detail": detail}
                    for name, weight, detail in signals
                ],
                "checked_by": "system:fraud",
                "created_at": placed_at,
            },
        )
        if decision == "block":
            for kind, value in (
                ("customer", str(customer.id)),
                ("email", customer.email),
                ("ip", ip),
                ("card_fingerprint", customer.card_fingerprint),
            ):
                if value and f"{kind}:{value}" not in self.blocked:
                    self.blocked[f"{kind}:{value}"] = self.next_id("blocked_entities")
                    self.w.add(
                        "blocked_entities",
                        {
                            "id": self.blocked[f"{kind}:{value}"],
                            "kind": kind,
                            "value": value,
                            "reason": f"fraud score {score} on order {order_id}",
                            "blocked_by": "system:fraud",
                            "created_at": placed_at + timedelta(minutes=1),
                            "expires_at": None,
                            "unblocked_at": None,
                            "unblocked_by": None,
                        },
                    )
        return decision

    # -- money -------------------------------------------------------------------------

    def _payment(
        self,
        order_id: int,
        customer: DemoCustomer,
        channel: str,
        total: int,
        placed_at: datetime,
        paid_at: datetime | None,
        failure: tuple[str, str] | None,
        transfer: bool,
        cancel: tuple[datetime, str, str] | None,
    ) -> dict[str, Any] | None:
        """The payment row; refunds update it until the order's rows are flushed."""
        if total <= 0:
            return None
        payment_id = self.next_id("payments")
        method_id: int | None
        if transfer:
            gateway_code, method_id = "sandbox_sepa", None
        elif channel == "shop":
            gateway_code, method_id = customer.gateway_codes[0], customer.payment_method_ids[0]
        else:
            gateway_code, method_id = "marketplace", None
        fee_bp, fee_fixed = next(
            (bp, fixed) for code, _, _, bp, fixed in c.GATEWAYS if code == gateway_code
        )
        status = (
            "failed" if failure else "captured" if paid_at else "voided" if cancel else "pending"
        )
        captured = total if paid_at else 0
        return self.w.add(
            "payments",
            {
                "id": payment_id,
                "order_id": order_id,
                "gateway_id": self.ref.gateway_ids[gateway_code],
                "payment_method_id": method_id,
                "status": status,
                "currency": "EUR",
                "amount_cents": total,
                "captured_cents": captured,
                "refunded_cents": 0,  # set from the refunds once the order's life is known
                "fee_cents": round(captured * fee_bp / 10000) + (fee_fixed if captured else 0),
                "provider_reference": f"sbx_pay_{payment_id:09d}",
                "failure_code": failure[0] if failure else None,
                "failure_message": failure[1] if failure else None,
                "created_at": placed_at,
                "authorized_at": paid_at,
                "captured_at": paid_at,
                "updated_at": paid_at or placed_at,
            },
        )

    def _refund(
        self,
        payment: dict[str, Any],
        order_id: int,
        return_id: int | None,
        amount: int,
        at: datetime,
        reason: str,
        by: str,
    ) -> tuple[int, datetime]:
        amount = min(amount, payment["captured_cents"] - payment["refunded_cents"])
        payment["refunded_cents"] += amount
        payment["status"] = (
            "refunded"
            if payment["refunded_cents"] == payment["captured_cents"]
            else "partially_refunded"
        )
        payment["updated_at"] = at
        refund_id = self.next_id("refunds")
        self.w.add(
            "refunds",
            {
                "id": refund_id,
                "payment_id": payment["id"],
                "order_id": order_id,
                "return_id": return_id,
                "amount_cents": amount,
                "status": "succeeded",
                "reason": reason,
                "provider_reference": f"sbx_re_{refund_id:09d}",
                "created_by": by,
                "created_at": at,
            },
        )
        return amount, at

    def _loyalty(
        self,
        customer: DemoCustomer,
        order_id: int,
        paid_excl_shipping: int,
        refunds: list[tuple[int, datetime]],
        paid_at: datetime,
    ) -> None:
        points = paid_excl_shipping // 100
        if points <= 0:
            return
        self._loyalty_entry(customer.id, "earn", points, order_id, paid_at, "order paid")
        for amount, at in refunds:
            revoked = min(points, amount // 100, self.loyalty[customer.id])
            if revoked:
                self._loyalty_entry(customer.id, "revoke", -revoked, order_id, at, "order refunded")
        if self.loyalty[customer.id] >= 300 and self.rng.random() < 0.15:
            self._loyalty_entry(
                customer.id, "redeem", -200, None, paid_at + DAY, "2 vouchers of 5 EUR"
            )

    def _loyalty_entry(
        self,
        customer_id: int,
        kind: str,
        points: int,
        order_id: int | None,
        at: datetime,
        note: str,
    ) -> None:
        if at > self.now:
            return
        self.loyalty[customer_id] += points
        self.w.add(
            "loyalty_transactions",
            {
                "id": self.next_id("loyalty_transactions"),
                "customer_id": customer_id,
                "kind": kind,
                "points": points,
                "order_id": order_id,
                "note": note,
                "created_at": at,
            },
        )

    # -- logistics ---------------------------------------------------------------------

    def _reservations(
        self,
        order_id: int,
        lines: list[Line],
        warehouse_id: int,
        placed_at: datetime,
        status: str,
        cancel: tuple[datetime, str, str] | None,
    ) -> None:
        # Reservations are housekeeping rows: only the last two weeks' are kept.
        if placed_at < self.now - 14 * DAY:
            return
        open_order = status in ("pending", "paid", "processing")
        for line in lines:
            row_status = "active" if open_order else "released" if cancel else "committed"
            self.w.add(
                "stock_reservations",
                {
                    "id": self.next_id("stock_reservations"),
                    "variant_id": line.variant.id,
                    "warehouse_id": warehouse_id,
                    "order_id": order_id,
                    "quantity": line.quantity,
                    "status": row_status,
                    "expires_at": placed_at + timedelta(minutes=30)
                    if status == "pending"
                    else None,
                    "created_at": placed_at,
                    "released_at": cancel[0] if cancel else None,
                },
            )

    def _shipment(
        self,
        order_id: int,
        warehouse_id: int,
        times: dict[str, datetime],
        rate: tuple[int, int, str],
        lines: list[Line],
        service: str,
    ) -> None:
        rng = self.rng
        price, transit_days, carrier = rate
        shipment_id = self.next_id("shipments")
        shipped_at = times["shipped"]
        delivered_at = times.get("delivered")
        status = "delivered" if delivered_at else "in_transit"
        exception = rng.random() < 0.015
        events = [
            (
                "label_created",
                shipped_at - timedelta(hours=rng.uniform(1, 3)),
                "Label created, parcel waiting for pick-up",
            ),
            ("in_transit", shipped_at, f"Picked up: {FIRST_CARRIER_SCAN[carrier]}"),
        ]
        if exception:
            at = shipped_at + timedelta(hours=rng.uniform(10, 30))
            if at <= min(self.now, delivered_at or self.now):
                events.append(
                    (
                        "exception",
                        at,
                        rng.choice(
                            (
                                "Delivery attempt failed: recipient absent, notice left",
                                "Address incomplete: carrier contacting recipient",
                                "Parcel delayed at sorting centre",
                            )
                        ),
                    )
                )
                if not delivered_at:
                    status = "exception"
        if delivered_at:
            events.append(
                (
                    "out_for_delivery",
                    delivered_at - timedelta(hours=rng.uniform(2, 6)),
                    "Out for delivery",
                )
            )
            events.append(("delivered", delivered_at, "Delivered"))
        weight = sum(line.quantity * line.variant.weight_grams for line in lines) + 150
        self.w.add(
            "shipments",
            {
                "id": shipment_id,
                "order_id": order_id,
                "carrier_id": self.ref.carrier_ids[carrier],
                "warehouse_id": warehouse_id,
                "service": service,
                "tracking_number": tracking_number(carrier, shipment_id),
                "status": status,
                "weight_grams": weight,
                "cost_cents": price,
                "estimated_delivery": (shipped_at + timedelta(days=transit_days)).date(),
                "created_at": events[0][1],
                "shipped_at": shipped_at,
                "delivered_at": delivered_at,
            },
        )
        for event_status, at, description in events:
            self.w.add(
                "tracking_events",
                {
                    "id": self.next_id("tracking_events"),
                    "shipment_id": shipment_id,
                    "status": event_status,
                    "location": None
                    if event_status == "label_created"
                    else FIRST_CARRIER_SCAN[carrier],
                    "description": description,
                    "occurred_at": at,
                },
            )

    # -- after delivery ----------------------------------------------------------------

    def _after_delivery(
        self,
        order_id: int,
        customer: DemoCustomer,
        lines: list[Line],
        shipping: int,
        times: dict[str, datetime],
        payment: dict[str, Any] | None,
        warehouse_id: int,
        history: list,
    ) -> list[tuple[int, datetime]]:
        rng = self.rng
        delivered_at = times["delivered"]
        refunds = []
        if rng.random() < 0.055:
            refunds = self._return(
                order_id, customer, lines, shipping, delivered_at, payment, warehouse_id, history
            )
        if delivered_at >= self.now - 120 * DAY:
            self._survey(order_id, customer, delivered_at)
        for line in lines:
            if rng.random() < 0.004:
                self._warranty_claim(line, customer, delivered_at)
        return refunds

    def _return(
        self,
        order_id: int,
        customer: DemoCustomer,
        lines: list[Line],
        shipping: int,
        delivered_at: datetime,
        payment: dict[str, Any] | None,
        warehouse_id: int,
        history: list,
    ) -> list[tuple[int, datetime]]:
        rng = self.rng
        requested = delivered_at + timedelta(days=rng.uniform(0.5, 27))
        if requested > self.now:
            return []
        reason = weighted(rng, RETURN_REASONS)
        chosen = lines if rng.random() < 0.7 else [rng.choice(lines)]
        quantities = {
            line.id: (
                line.quantity
                if chosen is lines or line.quantity == 1
                else rng.randint(1, line.quantity)
            )
            for line in chosen
        }
        whole_order = chosen is lines and all(
            quantities[line.id] == line.quantity for line in lines
        )
        condition = {
            "changed_mind": rng.choice(("unopened", "opened")),
            "defective": "defective",
            "damaged_in_transit": "damaged",
        }.get(reason, "opened")
        steps = {"authorized": requested + timedelta(hours=rng.uniform(2, 30))}
        steps["received"] = steps["authorized"] + timedelta(days=rng.uniform(3, 8))
        steps["inspected"] = steps["received"] + timedelta(hours=rng.uniform(4, 48))
        customer_damage = condition == "opened" and rng.random() < 0.12
        final = "rejected" if customer_damage else "refunded"
        steps[final] = steps["inspected"] + timedelta(hours=rng.uniform(1, 24))
        status = "requested"
        for step in ("authorized", "received", "inspected", final):
            if steps[step] <= self.now:
                status = step
        return_id = self.next_id("return_requests")
        refund_lines = {
            line.id: line.total_cents * quantities[line.id] // line.quantity for line in chosen
        }
        shipping_refund = (
            shipping
            if (
                (whole_order and requested - delivered_at <= 14 * DAY)
                or reason in ("defective", "damaged_in_transit", "wrong_item")
            )
            else 0
        )
        refund_cents = 0 if final == "rejected" else sum(refund_lines.values()) + shipping_refund
        closed = steps[final] if status == final else None
        self.w.add(
            "return_requests",
            {
                "id": return_id,
                "rma_number": f"RMA-{requested.year}-{return_id:06d}",
                "order_id": order_id,
                "customer_id": customer.id,
                "status": status,
                "reason": reason,
                "customer_comment": rng.choice(RETURN_COMMENTS[reason]),
                "refund_cents": refund_cents,
                "rejection_reason": "item damaged after delivery (cracked screen)"
                if status == "rejected"
                else None,
                "created_by": "customer",
                "requested_at": requested,
                "authorized_at": steps["authorized"] if status != "requested" else None,
                "received_at": steps["received"]
                if status in ("received", "inspected", final)
                else None,
                "inspected_at": steps["inspected"] if status in ("inspected", final) else None,
                "closed_at": closed,
            },
        )
        for line in chosen:
            self.w.add(
                "return_lines",
                {
                    "id": self.next_id("return_lines"),
                    "return_id": return_id,
                    "order_line_id": line.id,
                    "quantity": quantities[line.id],
                    "condition": "damaged" if customer_damage else condition,
                    "refund_cents": 0 if final == "rejected" else refund_lines[line.id],
                },
            )
        if status in ("received", "inspected", final):
            self._return_inspection(
                chosen,
                quantities,
                warehouse_id,
                return_id,
                steps,
                status,
                condition,
                customer_damage,
            )
        if status == "refunded" and payment and refund_cents:
            refund = self._refund(
                payment,
                order_id,
                return_id,
                refund_cents,
                steps["refunded"],
                f"return RMA-{requested.year}-{return_id:06d}",
                rng.choice(self.staff_support),
            )
            if whole_order:
                history.append(
                    (
                        "delivered",
                        "returned",
                        steps["refunded"],
                        rng.choice(self.staff_support),
                        "all items returned",
                    )
                )
            return [refund]
        return []

    def _return_inspection(
        self,
        chosen: list[Line],
        quantities: dict[int, int],
        warehouse_id: int,
        return_id: int,
        steps: dict[str, datetime],
        status: str,
        condition: str,
        customer_damage: bool,
    ) -> None:
        for line in chosen:
            done = status != "received"
            restock = done and condition in ("unopened", "opened") and not customer_damage
            inspection_id = self.next_id("quality_inspections")
            self.w.add(
                "quality_inspections",
                {
                    "id": inspection_id,
                    "kind": "return",
                    "status": "completed" if done else "scheduled",
                    "result": ("passed" if restock else "failed") if done else None,
                    "variant_id": line.variant.id,
                    "warehouse_id": warehouse_id,
                    "return_id": return_id,
                    "batch_reference": None,
                    "quantity_inspected": quantities[line.id],
                    "quantity_failed": 0 if restock or not done else quantities[line.id],
                    "grade": ("A" if condition == "unopened" else "B") if restock else None,
                    "inspector_id": None,
                    "notes": None,
                    "scheduled_for": steps["received"],
                    "started_at": steps["inspected"] - HOUR if done else None,
                    "completed_at": steps["inspected"] if done else None,
                },
            )
            if done and not restock:
                defect = "functional" if condition == "defective" else "cosmetic"
                self.w.add(
                    "quality_defects",
                    {
                        "id": self.next_id("quality_defects"),
                        "inspection_id": inspection_id,
                        "variant_id": line.variant.id,
                        "defect_type": defect,
                        "severity": "major" if defect == "functional" else "minor",
                        "quantity": quantities[line.id],
                        "description": self.rng.choice(WARRANTY_FAULTS)
                        if defect == "functional"
                        else "scratches and dents on the casing",
                        "created_at": steps["inspected"],
                    },
                )
            if restock:
                self.stock[(line.variant.id, warehouse_id)].on_hand += quantities[line.id]
                self.w.add(
                    "stock_movements",
                    {
                        "id": self.next_id("stock_movements"),
                        "variant_id": line.variant.id,
                        "warehouse_id": warehouse_id,
                        "kind": "return",
                        "quantity": quantities[line.id],
                        "reason": "returned item restocked",
                        "reference": f"return:{return_id}",
                        "created_by": "system:quality",
                        "created_at": steps["inspected"],
                    },
                )

    def _batch_inspection(
        self, variant: Variant, warehouse_id: int, quantity: int, at: datetime, reference: str
    ) -> None:
        rng = self.rng
        if at > self.now:
            return
        inspected = min(quantity, rng.randint(5, 20))
        failed = weighted(rng, ((0, 70), (1, 20), (2, 10)))
        inspection_id = self.next_id("quality_inspections")
        self.w.add(
            "quality_inspections",
            {
                "id": inspection_id,
                "kind": "inbound_batch",
                "status": "completed",
                "result": "failed" if failed > inspected * 0.1 else "passed",
                "variant_id": variant.id,
                "warehouse_id": warehouse_id,
                "return_id": None,
                "batch_reference": reference,
                "quantity_inspected": inspected,
                "quantity_failed": failed,
                "grade": None,
                "inspector_id": None,
                "notes": None,
                "scheduled_for": at,
                "started_at": at + HOUR,
                "completed_at": at + 3 * HOUR,
            },
        )
        for _ in range(failed):
            defect = weighted(
                rng,
                (
                    ("cosmetic", 50),
                    ("functional", 25),
                    ("missing_accessory", 15),
                    ("packaging", 10),
                ),
            )
            self.w.add(
                "quality_defects",
                {
                    "id": self.next_id("quality_defects"),
                    "inspection_id": inspection_id,
                    "variant_id": variant.id,
                    "defect_type": defect,
                    "severity": "major" if defect == "functional" else "minor",
                    "quantity": 1,
                    "description": {
                        "cosmetic": "deep scratch on the back panel",
                        "functional": rng.choice(WARRANTY_FAULTS),
                        "missing_accessory": "charging cable missing",
                        "packaging": "box crushed in transit",
                    }[defect],
                    "created_at": at + 2 * HOUR,
                },
            )

    def _survey(self, order_id: int, customer: DemoCustomer, delivered_at: datetime) -> None:
        rng = self.rng
        due = delivered_at + 3 * DAY
        row = {
            "id": self.next_id("satisfaction_surveys"),
            "order_id": order_id,
            "customer_id": customer.id,
            "status": "due",
            "score": None,
            "nps": None,
            "comment": None,
            "due_at": due,
            "sent_at": None,
            "answered_at": None,
        }
        if due <= self.now:
            row.update(status="sent", sent_at=due)
            answered = due + timedelta(hours=rng.uniform(1, 120))
            if rng.random() < 0.35 and answered <= self.now:
                score = weighted(rng, SURVEY_SCORES)
                row.update(
                    status="answered",
                    score=score,
                    nps=min(10, max(0, score * 2 + rng.randint(-1, 0))),
                    comment=rng.choice(SURVEY_COMMENTS[score]),
                    answered_at=answered,
                )
            elif due + 14 * DAY <= self.now:
                row["status"] = "expired"
        self.w.add("satisfaction_surveys", row)

    def _warranty_claim(self, line: Line, customer: DemoCustomer, delivered_at: datetime) -> None:
        rng = self.rng
        created = delivered_at + timedelta(days=rng.uniform(20, 330))
        ends = (delivered_at + timedelta(days=30 * line.variant.warranty_months)).date()
        if created > self.now or created.date() > ends:
            return
        claim_id = self.next_id("warranty_claims")
        age = self.now - created
        status = (
            "submitted"
            if age < 3 * DAY
            else weighted(
                rng,
                (
                    ("repaired", 40),
                    ("replaced", 25),
                    ("refunded", 10),
                    ("rejected", 15),
                    ("approved", 10),
                ),
            )
        )
        self.w.add(
            "warranty_claims",
            {
                "id": claim_id,
                "claim_number": f"WAR-{created.year}-{claim_id:06d}",
                "order_line_id": line.id,
                "customer_id": customer.id,
                "status": status,
                "fault_description": rng.choice(WARRANTY_FAULTS),
                "resolution": None
                if status == "submitted"
                else {
                    "repaired": "repaired by the workshop, returned to the customer",
                    "replaced": "replaced with an equivalent unit",
                    "refunded": "no replacement in stock, refunded",
                    "rejected": "damage caused by a fall, not covered",
                    "approved": "approved, waiting for the unit",
                }[status],
                "warranty_ends_on": ends,
                "created_by": "customer",
                "created_at": created,
                "decided_at": None if status == "submitted" else created + 2 * DAY,
                "decided_by": None if status == "submitted" else rng.choice(self.staff_managers),
            },
        )

    def _interaction(
        self, customer: DemoCustomer, order_id: int, placed_at: datetime, times: dict[str, datetime]
    ) -> None:
        rng = self.rng
        at = placed_at + timedelta(hours=rng.uniform(2, 200))
        if at > self.now:
            return
        complaint = rng.random() < 0.3
        subject, body = rng.choice(COMPLAINTS if complaint else QUESTIONS)
        staff_id = self.ref.staff_ids[rng.choice(self.staff_support)]
        self.w.add(
            "interactions",
            {
                "id": self.next_id("interactions"),
                "customer_id": customer.id,
                "channel": weighted(rng, (("email", 50), ("phone", 30), ("chat", 20))),
                "kind": "complaint" if complaint else "question",
                "subject": subject,
                "body": body,
                "order_id": order_id,
                "staff_user_id": staff_id,
                "created_at": at,
            },
        )

    # -- marketplaces ------------------------------------------------------------------

    def _marketplace_order(
        self,
        order_id: int,
        marketplace: str,
        customer: DemoCustomer,
        lines: list[Line],
        total: int,
        placed_at: datetime,
        status: str,
    ) -> None:
        rng = self.rng
        mp_id = self.next_id("marketplace_orders")
        external = external_order_id(marketplace, mp_id)
        self.w.add(
            "marketplace_orders",
            {
                "id": mp_id,
                "connection_id": self.ref.connection_ids[marketplace],
                "external_order_id": external,
                "marketplace_status": marketplace_status(status),
                "sync_status": "synced",
                "order_id": order_id,
                "total_cents": total,
                "payload": {
                    "buyer_email": customer.email,
                    "lines": [
                        {
                            "sku": line.variant.sku,
                            "quantity": line.quantity,
                            "unit_price_cents": line.unit_cents,
                        }
                        for line in lines
                    ],
                },
                "error": None,
                "received_at": placed_at,
                "synced_at": placed_at + timedelta(minutes=rng.randint(1, 15)),
            },
        )
        if rng.random() < 0.04:
            self._marketplace_messages(marketplace, mp_id, external, customer, placed_at)

    def _marketplace_messages(
        self,
        marketplace: str,
        mp_id: int,
        external: str,
        customer: DemoCustomer,
        placed_at: datetime,
    ) -> None:
        rng = self.rng
        asked = placed_at + timedelta(hours=rng.uniform(1, 240))
        if asked > self.now:
            return
        connection_id = self.ref.connection_ids[marketplace]
        subject, question, answer = rng.choice(MARKETPLACE_QUESTIONS)
        replied = asked + timedelta(hours=rng.uniform(0.5, 30))
        answered = rng.random() < 0.85 and replied <= self.now
        inbound_id = self.next_id("marketplace_messages")
        self.w.add(
            "marketplace_messages",
            {
                "id": inbound_id,
                "connection_id": connection_id,
                "external_id": f"{marketplace[:3].upper()}-MSG-{inbound_id:07d}",
                "marketplace_order_id": mp_id,
                "direction": "inbound",
                "author": f"buyer of order {external}",
                "subject": subject,
                "body": question,
                "is_read": answered or asked < self.now - 2 * DAY,
                "sent_at": asked,
            },
        )
        if answered:
            outbound_id = self.next_id("marketplace_messages")
            self.w.add(
                "marketplace_messages",
                {
                    "id": outbound_id,
                    "connection_id": connection_id,
                    "external_id": f"{marketplace[:3].upper()}-MSG-{outbound_id:07d}",
                    "marketplace_order_id": mp_id,
                    "direction": "outbound",
                    "author": rng.choice(self.staff_support),
                    "subject": f"Re: {subject}",
                    "body": answer,
                    "is_read": True,
                    "sent_at": replied,
                },
            )

    # -- anomalies ---------------------------------------------------------------------

    def _outage_anomaly(self) -> list[dict[str, Any]]:
        index = (self.outage_day - self.start.date()).days
        outage = self.daily.get(index)
        baseline = [self.daily[i] for i in range(index - 28, index) if self.daily[i].orders]
        if not outage or not outage.orders or len(baseline) < 7:
            return []
        rates = [d.cancelled / d.orders for d in baseline]
        mean = sum(rates) / len(rates)
        spread = math.sqrt(sum((r - mean) ** 2 for r in rates) / len(rates)) or 0.01
        observed = outage.cancelled / outage.orders
        return [
            {
                "day": self.outage_day,
                "observed": observed,
                "expected": mean,
                "z": (observed - mean) / spread,
                "orders": outage.orders,
                "cancelled": outage.cancelled,
            }
        ]


def tracking_number(carrier: str, shipment_id: int) -> str:
    scrambled = (shipment_id * 7919 + 104729) % 10**10  # a bijection: numbers stay unique
    return {
        "colissimo": f"6A{scrambled:011d}",
        "chronopost": f"XY{scrambled:010d}FR",
        "dpd": f"250{scrambled:011d}",
        "colis_prive": f"CP{scrambled:012d}",
        "ups": f"1Z9L4W{scrambled:012d}",
        "fedex": f"7{scrambled:011d}",
    }[carrier]


def external_order_id(marketplace: str, number: int) -> str:
    scrambled = (number * 48271 + 12345) % 10**10
    return {
        "amazon": f"402-{scrambled // 1000:07d}-{scrambled % 10**7:07d}",
        "cdiscount": f"{2400000000 + scrambled % 10**9}CD",
        "backmarket": f"BM{scrambled:010d}",
        "refurbed": f"RFB-{scrambled:010d}",
        "mirakl": f"FD-{scrambled:010d}-A",
        "ebay": f"{scrambled // 100000:05d}-{scrambled % 100000:05d}",
    }[marketplace]


def marketplace_status(status: str) -> str:
    return {
        "pending": "WAITING_ACCEPTANCE",
        "paid": "ACCEPTED",
        "processing": "ACCEPTED",
        "shipped": "SHIPPED",
        "delivered": "RECEIVED",
        "cancelled": "CANCELED",
        "returned": "REFUNDED",
    }[status]
