"""The clients of the load run (benchmarks/load.py): many concurrent merchants' staff on the
REST API, and the ledger of what each was told, to check against the database afterwards.

Each client loops until the deadline over a weighted mix: reads (orders, products, stock),
new orders (some for scarce SKUs, so stock runs out), payments, reservations of the last
units, releases, refunds (partial, full, over the limit on purpose, retried with the same
idempotency key) and cancellations. A business refusal (4xx: out of stock, refund above the
capture...) is an outcome; an error is a 5xx, a timeout or a failed connection. A write with
an idempotency key that gets no clear answer is retried once with the same key, as a careful
client would.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from statistics import quantiles
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

REQUEST_TIMEOUT_S = 30.0
SCARCE_SKUS = 10  # the variants with the fewest units left: orders and reservations race
DECLINED_CARD = "4000 0000 0000 0002"
APPROVED_CARD = "4242 4242 4242 4242"


@dataclass
class Catalog:
    """What clients pick from, read from the database before the run."""

    customers: list[int]
    scarce: list[str]
    plentiful: list[str]
    last_order_id: int
    last_refund_id: int

    @classmethod
    def read(cls, engine: Engine) -> "Catalog":
        available = """
            SELECT v.sku FROM product_variants v
            JOIN products p ON p.id = v.product_id
            JOIN stock_levels s ON s.variant_id = v.id
            JOIN warehouses w ON w.id = s.warehouse_id
            WHERE v.is_active AND p.status = 'active' AND w.is_active
            GROUP BY v.id, v.sku HAVING SUM(s.on_hand - s.reserved) > 0
            ORDER BY SUM(s.on_hand - s.reserved), v.id"""
        customers = """
            SELECT c.id FROM customers c
            WHERE EXISTS (SELECT 1 FROM addresses a WHERE a.customer_id = c.id
                          AND a.country = 'FR')
              AND NOT EXISTS (SELECT 1 FROM blocked_entities b WHERE b.unblocked_at IS NULL
                              AND ((b.kind = 'customer' AND b.value = CAST(c.id AS VARCHAR))
                                   OR (b.kind = 'email' AND b.value = c.email)))
            ORDER BY c.id LIMIT 300"""
        with engine.connect() as connection:
            skus = list(connection.execute(sa.text(available)).scalars())
            return cls(
                customers=list(connection.execute(sa.text(customers)).scalars()),
                scarce=skus[:SCARCE_SKUS],
                plentiful=skus[SCARCE_SKUS:],
                last_order_id=connection.execute(
                    sa.text("SELECT COALESCE(MAX(id), 0) FROM orders")
                ).scalar_one(),
                last_refund_id=connection.execute(
                    sa.text("SELECT COALESCE(MAX(id), 0) FROM refunds")
                ).scalar_one(),
            )


@dataclass
class OpStats:
    requests: int = 0
    ok: int = 0
    refused: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, p: int) -> float | None:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else None
        return quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


def combined(stats: Iterable[OpStats]) -> OpStats:
    total = OpStats()
    for one in stats:
        total.requests += one.requests
        total.ok += one.ok
        total.refused += one.refused
        total.errors += one.errors
    return total


@dataclass
class Ledger:
    """What the clients were told, and every broken promise they saw."""

    orders: dict[str, int] = field(default_factory=dict)  # order note -> id
    unknown_orders: set[str] = field(default_factory=set)  # notes with no clear answer
    refunds: set[int] = field(default_factory=set)  # refund ids (refunds and cancellations)
    unknown_refunds: int = 0  # refund requests still without an answer after their retry
    unknown_cancels: set[int] = field(default_factory=set)  # orders whose cancel got none
    payments: dict[str, int] = field(default_factory=dict)  # payment key -> payment id
    anomalies: list[str] = field(default_factory=list)


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Paid:
    order_id: int
    payment_id: int
    captured_cents: int


@dataclass
class RefundSent:
    payment_id: int
    body: dict[str, Any]
    refund_id: int


class Workload:
    def __init__(self, base_url: str, api_key: str, catalog: Catalog, run_id: str, seed: int):
        self.base_url = f"{base_url}/api/v1"
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.catalog = catalog
        self.run_id = run_id
        self.seed = seed
        self.stats: dict[str, OpStats] = {}
        self.refusals: Counter[str] = Counter()  # business refusals, by operation and code
        self.failures: Counter[str] = Counter()  # errors, by operation and kind
        self.ledger = Ledger()
        self.pending: list[int] = []  # orders waiting for their payment
        self.paid: list[Paid] = []
        self.refunds_sent: list[RefundSent] = []
        self.reservations: list[int] = []
        self.pay_attempts: Counter[int] = Counter()  # declines so far, per order
        self.operations: list[tuple[Callable[..., Awaitable[None]], int]] = [
            (self.read_order, 10),
            (self.list_orders, 5),
            (self.list_products, 5),
            (self.read_stock, 6),
            (self.create_order, 18),
            (self.pay, 14),
            (self.reserve_last_units, 6),
            (self.release_reservation, 3),
            (self.refund, 14),
            (self.cancel, 4),
        ]

    @property
    def totals(self) -> OpStats:
        return combined(self.stats.values())

    async def run(self, clients: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.headers,
            timeout=REQUEST_TIMEOUT_S,
            limits=limits,
        ) as http:
            await asyncio.gather(*(self.client(http, n, deadline) for n in range(clients)))

    async def client(self, http: httpx.AsyncClient, number: int, deadline: float) -> None:
        rng = random.Random(f"{self.seed}-{number}")
        actions, weights = zip(*self.operations, strict=True)
        step = 0
        while time.monotonic() < deadline:
            step += 1
            action = rng.choices(actions, weights)[0]
            await action(http, rng, f"{number}-{step}")

    # -- one request --------------------------------------------------------------------

    async def call(
        self,
        http: httpx.AsyncClient,
        op: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Answer | None:
        """One request, counted under `op`; None when no clear answer came (an error)."""
        stats = self.stats.setdefault(op, OpStats())
        stats.requests += 1
        started = time.perf_counter()
        try:
            response = await http.request(method, path, json=body, params=params)
        except httpx.HTTPError as error:  # timeouts, refused or dropped connections
            stats.errors += 1
            self.failures[f"{op}: {type(error).__name__}"] += 1
            return None
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            stats.errors += 1
            self.failures[f"{op}: {response.status_code}"] += 1
            return None
        json_body = response.headers.get("content-type", "").startswith("application/json")
        answer = Answer(response.status_code, response.json() if json_body else response.text)
        if answer.ok:
            stats.ok += 1
        else:
            stats.refused += 1
            refusal = answer.body.get("error", {}) if isinstance(answer.body, dict) else {}
            self.refusals[f"{op}: {response.status_code} {refusal.get('code', '?')}"] += 1
        return answer

    async def keyed(
        self,
        http: httpx.AsyncClient,
        op: str,
        path: str,
        body: dict[str, Any],
    ) -> Answer | None:
        """A write with an idempotency key: retried once, with the same key, when the first
        try got no clear answer."""
        answer = await self.call(http, op, "POST", path, body)
        if answer is None:
            answer = await self.call(http, f"{op} (retry after error)", "POST", path, body)
        return answer

    # -- reads --------------------------------------------------------------------------

    async def read_order(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        told = list(self.ledger.orders.values())
        order_id = rng.choice(told) if told and rng.random() < 0.5 else None
        order_id = order_id or rng.randint(1, self.catalog.last_order_id)
        await self.call(http, "get order", "GET", f"/orders/{order_id}")

    async def list_orders(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        params: dict[str, Any] = {"limit": 20}
        if rng.random() < 0.5:
            params["status"] = rng.choice(["pending", "paid", "shipped", "cancelled"])
        else:
            params["customer_id"] = rng.choice(self.catalog.customers)
        await self.call(http, "list orders", "GET", "/orders", params=params)

    async def list_products(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        params = {"limit": 20, "cursor": rng.randint(0, 40)}
        await self.call(http, "list products", "GET", "/products", params=params)

    async def read_stock(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        sku = rng.choice(self.catalog.scarce if rng.random() < 0.5 else self.catalog.plentiful)
        await self.call(http, "get stock", "GET", "/inventory/stock", params={"sku": sku})

    # -- writes -------------------------------------------------------------------------

    async def create_order(self, http: httpx.AsyncClient, rng: random.Random, tag: str) -> None:
        note = f"load-{self.run_id}-{tag}"
        if rng.random() < 0.35:
            lines = [{"sku": rng.choice(self.catalog.scarce), "quantity": rng.randint(1, 2)}]
        else:
            skus = rng.sample(self.catalog.plentiful, rng.choice([1, 1, 2]))
            lines = [{"sku": sku, "quantity": rng.randint(1, 2)} for sku in skus]
        body = {"customer_id": rng.choice(self.catalog.customers), "lines": lines, "note": note}
        answer = await self.call(http, "create order", "POST", "/orders", body)
        if answer is None:
            self.ledger.unknown_orders.add(note)
        elif answer.ok:
            self.ledger.orders[note] = answer.body["id"]
            if answer.body["status"] == "pending":
                self.pending.append(answer.body["id"])

    async def pay(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        if not self.pending:
            return
        # Not taken off the list: two clients may pay one order at once, with one key.
        order_id = rng.choice(self.pending)
        key = f"load-{self.run_id}-pay-{order_id}-{self.pay_attempts[order_id]}"
        declined = random.Random(key).random() < 0.1  # one card per key, whoever sends it
        body = {
            "order_id": order_id,
            "idempotency_key": key,
            "card_number": DECLINED_CARD if declined else APPROVED_CARD,
        }
        answer = await self.keyed(http, "pay", "/payments/process", body)
        if answer is None or not answer.ok:
            return
        payment = answer.body
        first = self.ledger.payments.setdefault(key, payment["id"])
        if first != payment["id"]:
            self.ledger.anomalies.append(
                f"payment key {key} answered {first}, then {payment['id']}"
            )
        if payment["status"] == "failed":
            self.pay_attempts[order_id] += 1  # a new attempt needs a new key
        elif payment["status"] == "captured" and order_id in self.pending:
            self.pending.remove(order_id)
            self.paid.append(Paid(order_id, payment["id"], payment["captured_cents"]))

    async def reserve_last_units(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        sku = rng.choice(self.catalog.scarce)
        answer = await self.call(
            http, "availability", "GET", "/inventory/availability", params={"sku": sku}
        )
        if answer is None or not answer.ok:
            return
        warehouses = [w for v in answer.body["variants"] for w in v["warehouses"] if w["stocked"]]
        if not warehouses:
            return
        most = max(warehouses, key=lambda w: w["available"])
        body = {
            "sku": sku,
            "warehouse_id": most["warehouse_id"],
            "quantity": max(1, most["available"]),  # the last units (or one too many)
            "expires_in_minutes": 5,
        }
        reserved = await self.call(
            http, "reserve last units", "POST", "/inventory/reservations", body
        )
        if reserved is not None and reserved.ok:
            self.reservations.append(reserved.body["id"])

    async def release_reservation(
        self, http: httpx.AsyncClient, rng: random.Random, _: str
    ) -> None:
        if not self.reservations:
            return
        reservation = self.reservations.pop(rng.randrange(len(self.reservations)))
        await self.call(
            http,
            "release reservation",
            "POST",
            f"/inventory/reservations/{reservation}/release",
            {"reason": "load run: released"},
        )

    async def refund(self, http: httpx.AsyncClient, rng: random.Random, tag: str) -> None:
        kind = rng.choices(["partial", "full", "over", "retry"], [40, 20, 15, 25])[0]
        if kind == "retry" and self.refunds_sent:
            await self.retry_refund(http, rng.choice(self.refunds_sent))
            return
        if not self.paid:
            return
        paid = rng.choice(self.paid)  # shared: clients refund the same payments at once
        amount: int | None = {
            "partial": rng.randint(1, max(1, paid.captured_cents // 3)),
            "full": None,
            "over": paid.captured_cents + 1,
        }.get(kind, rng.randint(1, max(1, paid.captured_cents // 3)))
        body: dict[str, Any] = {
            "reason": f"load run: {kind} refund",
            "idempotency_key": f"load-{self.run_id}-refund-{tag}",
        }
        if amount is not None:
            body["amount_cents"] = amount
        op = "refund over capture" if kind == "over" else "refund"
        path = f"/payments/transactions/{paid.payment_id}/refund"
        answer = await self.keyed(http, op, path, body)
        if answer is None:
            self.ledger.unknown_refunds += 1
        elif answer.ok:
            self.ledger.refunds.add(answer.body["id"])
            self.refunds_sent.append(RefundSent(paid.payment_id, body, answer.body["id"]))
            if kind == "over":
                self.ledger.anomalies.append(
                    f"refund {answer.body['id']} of {amount} cents accepted on payment "
                    f"{paid.payment_id}, which captured {paid.captured_cents}"
                )

    async def retry_refund(self, http: httpx.AsyncClient, sent: RefundSent) -> None:
        path = f"/payments/transactions/{sent.payment_id}/refund"
        answer = await self.call(http, "refund retried (same key)", "POST", path, sent.body)
        if answer is None:
            return  # the first answer stands; the checks count refunds in the database
        if not answer.ok or answer.body["id"] != sent.refund_id or not answer.body["replayed"]:
            self.ledger.anomalies.append(
                f"retrying refund {sent.refund_id} (key {sent.body['idempotency_key']}) "
                f"answered {answer.status} {answer.body}"
            )

    async def cancel(self, http: httpx.AsyncClient, rng: random.Random, _: str) -> None:
        if rng.random() < 0.5 and self.paid:
            order_id = self.paid.pop(rng.randrange(len(self.paid))).order_id
        elif self.pending:
            order_id = self.pending.pop(rng.randrange(len(self.pending)))
        else:
            return
        body = {"reason": "load run: customer changed their mind"}
        answer = await self.call(http, "cancel order", "POST", f"/orders/{order_id}/cancel", body)
        if answer is None:
            self.ledger.unknown_cancels.add(order_id)
        elif answer.ok:
            self.ledger.refunds.update(r["refund_id"] for r in answer.body["refunds"])
