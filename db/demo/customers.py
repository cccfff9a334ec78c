"""Demo customers with their addresses and payment methods."""

import hashlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from random import Random

from core.text import ascii_fold
from db.bulk import BulkWriter
from db.demo import people
from db.demo.reference import Reference
from db.models.customers import customer_search_text


@dataclass
class DemoCustomer:
    id: int
    created_at: datetime
    email: str
    country: str
    shipping_address_id: int
    billing_address_id: int
    billing_country: str
    payment_method_ids: list[int]
    gateway_codes: list[str]
    card_fingerprint: str | None


def zone_of(country: str) -> str:
    if country == "FR":
        return "FR"
    return "EUROPE" if country in ("CH", "GB") else "EU"


class CustomerFactory:
    """Makes customers whose ids follow their sign-up date, so orders can pick existing ones."""

    def __init__(self, writer: BulkWriter, rng: Random, ref: Reference, seed: int) -> None:
        self.writer = writer
        self.rng = rng
        self.ref = ref
        self.seed = seed
        self.customers: list[DemoCustomer] = []
        self.created: list[datetime] = []
        self.next_id = 1
        self.next_address_id = 1
        self.next_method_id = 1
        self.email_counts: dict[str, int] = {}
        self.throwaway_emails: set[str] = set()
        self.french_weights = list(accumulate(w for *_, w in people.FRENCH_CITIES))
        self.european_weights = list(accumulate(w for *_, w in people.EUROPEAN_CITIES))

    def make_many(self, count: int, first_signup: datetime, last_signup: datetime) -> None:
        span = (last_signup - first_signup).total_seconds()
        moments = sorted(
            first_signup + timedelta(seconds=self.rng.random() * span) for _ in range(count)
        )
        for moment in moments:
            self.make(moment)

    def make(self, created_at: datetime, *, suspicious: bool = False) -> DemoCustomer:
        rng = self.rng
        customer_id = self.next_id
        self.next_id += 1
        first, last = rng.choice(people.FIRST_NAMES), rng.choice(people.LAST_NAMES)
        local = f"{ascii_fold(first)}.{ascii_fold(last)}".replace(" ", "").replace("'", "")
        domain = rng.choice(people.EMAIL_DOMAINS)
        seen = self.email_counts.get(local + domain, 0)
        self.email_counts[local + domain] = seen + 1
        email = f"{local}{seen + 1 if seen else ''}@{domain}"
        if suspicious:
            throwaway = rng.choice(("proton.me", "yopmail.com", "guerrillamail.com"))
            email = f"{ascii_fold(first)}{rng.randint(1000, 99999)}@{throwaway}"
            while email in self.throwaway_emails:  # thousands of them at the large scale
                email = f"{ascii_fold(first)}{rng.randint(1000, 99999)}@{throwaway}"
            self.throwaway_emails.add(email)
        is_company = rng.random() < 0.04
        self.writer.add(
            "customers",
            {
                "id": customer_id,
                "email": email,
                "first_name": first,
                "last_name": last,
                "phone": "+33 6 " + " ".join(str(rng.randint(10, 99)) for _ in range(4)),
                "company": rng.choice(people.COMPANIES) if is_company else None,
                "locale": "fr-FR",
                "marketing_opt_in": rng.random() < 0.35,
                "loyalty_points": 0,
                "loyalty_tier": "bronze",
                "notes": None,
                "created_at": created_at,
                "search_text": customer_search_text(first, last, email),
            },
        )
        city, postcode, country = self._place()
        shipping_id = self._address(
            customer_id, "shipping", f"{first} {last}", city, postcode, country, created_at
        )
        billing_id, billing_country = shipping_id, country
        # Some customers have a separate billing address (an office, a parent's home).
        if rng.random() < 0.12 or suspicious:
            b_city, b_postcode, billing_country = (
                self._place() if not suspicious else rng.choice(people.EUROPEAN_CITIES)[:3]
            )
            billing_id = self._address(
                customer_id,
                "billing",
                f"{first} {last}",
                b_city,
                b_postcode,
                billing_country,
                created_at,
            )
        methods, gateways, fingerprint = self._payment_methods(customer_id, created_at)
        customer = DemoCustomer(
            customer_id,
            created_at,
            email,
            country,
            shipping_id,
            billing_id,
            billing_country,
            methods,
            gateways,
            fingerprint,
        )
        if not suspicious:  # kept out of the pool regular orders pick from
            self.customers.append(customer)
            self.created.append(created_at)
        return customer

    def pick(self, at: datetime) -> DemoCustomer:
        """A customer who had signed up by then; one in four orders comes from a loyal regular."""
        eligible = bisect_right(self.created, at)
        if eligible == 0:
            return self.customers[0]
        if self.rng.random() < 0.25:
            return self.customers[self.rng.randrange(max(1, eligible // 5))]
        return self.customers[self.rng.randrange(eligible)]

    def _place(self) -> tuple[str, str, str]:
        if self.rng.random() < 0.9:
            city, postcode, _ = self.rng.choices(
                people.FRENCH_CITIES, cum_weights=self.french_weights
            )[0]
            return city, postcode, "FR"
        city, postcode, country, _ = self.rng.choices(
            people.EUROPEAN_CITIES, cum_weights=self.european_weights
        )[0]
        return city, postcode, country

    def _address(
        self,
        customer_id: int,
        kind: str,
        full_name: str,
        city: str,
        postcode: str,
        country: str,
        created_at: datetime,
    ) -> int:
        address_id = self.next_address_id
        self.next_address_id += 1
        rng = self.rng
        line1 = (
            f"{rng.randint(1, 180)} {rng.choice(people.STREET_TYPES)} "
            f"{rng.choice(people.STREET_NAMES)}"
        )
        line2 = (
            f"Bâtiment {rng.choice('ABCD')}, appartement {rng.randint(1, 60)}"
            if rng.random() < 0.2
            else None
        )
        self.writer.add(
            "addresses",
            {
                "id": address_id,
                "customer_id": customer_id,
                "kind": kind,
                "full_name": full_name,
                "line1": line1,
                "line2": line2,
                "postcode": postcode,
                "city": city,
                "country": country,
                "is_default": True,
                "created_at": created_at,
            },
        )
        return address_id

    def _payment_methods(
        self, customer_id: int, created_at: datetime
    ) -> tuple[list[int], list[str], str | None]:
        rng = self.rng
        methods: list[int] = []
        gateways: list[str] = []
        fingerprint = None
        kinds = ["card"] if rng.random() < 0.82 else ["paypal"]
        if rng.random() < 0.1:
            kinds.append("paypal" if kinds[0] == "card" else "card")
        for position, kind in enumerate(kinds):
            method_id = self.next_method_id
            self.next_method_id += 1
            row = {
                "id": method_id,
                "customer_id": customer_id,
                "kind": kind,
                "brand": None,
                "last4": None,
                "exp_month": None,
                "exp_year": None,
                "fingerprint": None,
                "is_default": position == 0,
                "created_at": created_at,
            }
            if kind == "card":
                fingerprint = hashlib.sha256(f"{self.seed}-card-{method_id}".encode()).hexdigest()[
                    :32
                ]
                row.update(
                    brand=rng.choice(("visa", "mastercard", "cb", "amex")),
                    last4=f"{rng.randint(0, 9999):04d}",
                    exp_month=rng.randint(1, 12),
                    exp_year=created_at.year + rng.randint(1, 5),
                    fingerprint=fingerprint,
                    gateway_id=self.ref.gateway_ids["sandbox_card"],
                )
                gateways.append("sandbox_card")
            else:
                row["gateway_id"] = self.ref.gateway_ids["sandbox_paypal"]
                gateways.append("sandbox_paypal")
            self.writer.add("payment_methods", row)
            methods.append(method_id)
        return methods, gateways, fingerprint
