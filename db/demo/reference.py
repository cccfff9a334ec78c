"""Reference rows of the demo merchant: catalogue, warehouses, carriers, staff, settings."""

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

from core.security import hash_api_key, key_prefix
from core.text import ascii_fold
from db.bulk import BulkWriter
from db.demo import catalogue as c
from db.demo.articles import load_articles

DEMO_KEY_PREFIX = "cpt_demo_"


def slugify(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in ascii_fold(text)).split())


def ean13(number: int) -> str:
    digits = f"376{number:09d}"  # 376: a GS1 France-style prefix
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def demo_api_key(seed: int, email: str) -> str:
    """Demo keys derive from the seed so a seeded database is the same row for row."""
    return (
        DEMO_KEY_PREFIX + hashlib.sha256(f"comptoir-demo-{seed}-{email}".encode()).hexdigest()[:32]
    )


@dataclass
class Variant:
    id: int
    product_id: int
    sku: str
    name: str
    price_cents: int
    cost_cents: int
    weight_grams: int
    refurbished: bool
    warranty_months: int
    popularity: float


@dataclass
class Reference:
    """What the order history needs to know about the reference rows it points at."""

    variants: list[Variant] = field(default_factory=list)
    warehouse_ids: dict[str, int] = field(default_factory=dict)
    warehouse_shares: list[float] = field(default_factory=list)
    carrier_ids: dict[str, int] = field(default_factory=dict)
    rates: dict[tuple[str, str, str], list[tuple[int, int, int]]] = field(default_factory=dict)
    gateway_ids: dict[str, int] = field(default_factory=dict)
    connection_ids: dict[str, int] = field(default_factory=dict)
    staff_ids: dict[str, int] = field(default_factory=dict)
    staff_emails: dict[str, list[str]] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)


def write_reference(writer: BulkWriter, rng: Random, seed: int, start: datetime) -> Reference:
    ref = Reference()
    _staff(writer, ref, seed, start)
    _catalogue(writer, ref, rng, start)
    _warehouses(writer, ref, start)
    _carriers(writer, ref, start)
    _gateways(writer, ref, start)
    _connections(writer, ref, start)
    _settings(writer, ref, start)
    _articles(writer, ref, start)
    return ref


def _staff(writer: BulkWriter, ref: Reference, seed: int, start: datetime) -> None:
    for user_id, (email, full_name, role) in enumerate(c.STAFF, start=1):
        writer.add(
            "staff_users",
            {
                "id": user_id,
                "email": email,
                "full_name": full_name,
                "role": role,
                "is_active": True,
                "created_at": start - timedelta(days=400 - user_id * 20),
                "last_seen_at": None,
            },
        )
        key = demo_api_key(seed, email)
        writer.add(
            "api_keys",
            {
                "id": user_id,
                "user_id": user_id,
                "name": "demo key",
                "prefix": key_prefix(key),
                "key_hash": hash_api_key(key),
                "created_at": start - timedelta(days=30),
                "expires_at": None,
                "last_used_at": None,
                "revoked_at": None,
            },
        )
        ref.staff_ids[email] = user_id
        ref.staff_emails.setdefault(role, []).append(email)
        ref.api_keys.setdefault(role, key)


def _catalogue(writer: BulkWriter, ref: Reference, rng: Random, start: datetime) -> None:
    category_ids = {}
    for category_id, (slug, name, description) in enumerate(c.CATEGORIES, start=1):
        category_ids[slug] = category_id
        writer.add(
            "categories",
            {
                "id": category_id,
                "name": name,
                "slug": slug,
                "parent_id": None,
                "description": description,
                "created_at": start - timedelta(days=500),
            },
        )
    variant_id = 0
    for product_id, template in enumerate(c.PRODUCTS, start=1):
        condition = "refurbished" if template.refurbished else "new"
        name = f"{template.brand} {template.model}"
        if template.refurbished:
            name += " (refurbished)"
        warranty = 12 if template.refurbished else 24
        description = (
            f"{template.blurb} "
            + (
                "Professionally refurbished, tested on 30 checkpoints, battery above 85%. "
                if template.refurbished
                else "Brand new, sealed, French retail version. "
            )
            + f"Available in {', '.join(template.colours)}. {warranty}-month warranty."
        )
        writer.add(
            "products",
            {
                "id": product_id,
                "name": name,
                "slug": slugify(name),
                "brand": template.brand,
                "description": description,
                "category_id": category_ids[template.category],
                "condition": condition,
                "status": "active",
                "vat_rate_bp": 2000,
                "warranty_months": warranty,
                "created_at": start - timedelta(days=450 - product_id * 3),
                "updated_at": None,
            },
        )
        grades = c.REFURBISHED_GRADES if template.refurbished else ((None, 1.0),)
        product_popularity = rng.lognormvariate(0, 0.9)
        for option, delta in template.options:
            for colour in template.colours:
                for grade, factor in grades:
                    variant_id += 1
                    price = round((template.base_price_eur + delta) * factor, 2)
                    price_cents = _charm_price(price)
                    attributes = " · ".join(
                        x
                        for x in (option, colour, grade and f"Grade {grade}")
                        if x and x != "Standard"
                    )
                    sku = _sku(template.brand, template.model, option, colour, grade)
                    cost_cents = int(price_cents / 1.2 * rng.uniform(0.55, 0.75))
                    writer.add(
                        "product_variants",
                        {
                            "id": variant_id,
                            "product_id": product_id,
                            "sku": sku,
                            "ean": ean13(variant_id),
                            "name": f"{name} {attributes}".strip(),
                            "attributes": attributes,
                            "grade": grade,
                            "price_cents": price_cents,
                            "cost_cents": cost_cents,
                            "weight_grams": template.weight_grams,
                            "is_active": True,
                            "created_at": start - timedelta(days=440),
                            "updated_at": None,
                        },
                    )
                    # Cheaper grades and accessories sell more often.
                    popularity = (
                        product_popularity
                        * (1.4 if grade == "B" else 1.0)
                        * (2.5 if template.category == "accessories" else 1.0)
                    )
                    ref.variants.append(
                        Variant(
                            variant_id,
                            product_id,
                            sku,
                            f"{name} {attributes}".strip(),
                            price_cents,
                            cost_cents,
                            template.weight_grams,
                            template.refurbished,
                            warranty,
                            popularity,
                        )
                    )


def _charm_price(price: float) -> int:
    """Retail prices end in .99 or .90 above ten euros, as shops price them."""
    if price < 10:
        return round(price * 100)
    return math.floor(price) * 100 - 1 if price >= 100 else int(price) * 100 + 90


def _sku(brand: str, model: str, option: str, colour: str, grade: str | None) -> str:
    def code(text: str, size: int) -> str:
        return slugify(text).replace("-", "").upper()[:size]

    first, *others = slugify(colour).split("-")
    colour_code = (first[:4] + "".join(word[0] for word in others)).upper()
    parts = [
        code(brand, 3),
        code(model, 14),
        "" if option == "Standard" else code(option, 8),
        colour_code,
        grade or "",
    ]
    return "-".join(p for p in parts if p)


def _warehouses(writer: BulkWriter, ref: Reference, start: datetime) -> None:
    for warehouse_id, (code, name, address, postcode, city, locations, share) in enumerate(
        c.WAREHOUSES, start=1
    ):
        writer.add(
            "warehouses",
            {
                "id": warehouse_id,
                "code": code,
                "name": name,
                "address_line": address,
                "postcode": postcode,
                "city": city,
                "country": "FR",
                "capacity_locations": locations,
                "is_active": True,
                "created_at": start - timedelta(days=900 - warehouse_id * 90),
            },
        )
        ref.warehouse_ids[code] = warehouse_id
        ref.warehouse_shares.append(share)


def _carriers(writer: BulkWriter, ref: Reference, start: datetime) -> None:
    for carrier_id, (code, name, on_time, max_kg, url) in enumerate(c.CARRIERS, start=1):
        writer.add(
            "carriers",
            {
                "id": carrier_id,
                "code": code,
                "name": name,
                "on_time_rate_bp": on_time,
                "max_weight_grams": max_kg * 1000,
                "tracking_url_template": url,
                "is_active": True,
                "created_at": start - timedelta(days=600),
            },
        )
        ref.carrier_ids[code] = carrier_id
    rate_id = 0
    for (carrier, zone, service), lines in c.RATE_CARDS.items():
        ref.rates[(carrier, zone, service)] = []
        for max_grams, price, days in lines:
            rate_id += 1
            writer.add(
                "carrier_rates",
                {
                    "id": rate_id,
                    "carrier_id": ref.carrier_ids[carrier],
                    "zone": zone,
                    "service": service,
                    "max_weight_grams": max_grams,
                    "price_cents": round(price * 100),
                    "transit_days": days,
                },
            )
            ref.rates[(carrier, zone, service)].append((max_grams, round(price * 100), days))


def _gateways(writer: BulkWriter, ref: Reference, start: datetime) -> None:
    for gateway_id, (code, name, provider, fee_bp, fee_fixed) in enumerate(c.GATEWAYS, start=1):
        writer.add(
            "payment_gateways",
            {
                "id": gateway_id,
                "code": code,
                "name": name,
                "provider": provider,
                "mode": "test",
                "is_active": True,
                "fee_bp": fee_bp,
                "fee_fixed_cents": fee_fixed,
                "created_at": start - timedelta(days=600),
            },
        )
        ref.gateway_ids[code] = gateway_id


def _connections(writer: BulkWriter, ref: Reference, start: datetime) -> None:
    for connection_id, (marketplace, name, seller_id, _share) in enumerate(
        c.MARKETPLACE_CONNECTIONS, start=1
    ):
        writer.add(
            "marketplace_connections",
            {
                "id": connection_id,
                "marketplace": marketplace,
                "name": name,
                "seller_id": seller_id,
                "mode": "sandbox",
                "status": "active",
                "credentials_hint": None,
                "settings": {"auto_sync": True, "stock_buffer": 1},
                "last_synced_at": None,
                "created_at": start - timedelta(days=500 - connection_id * 30),
            },
        )
        ref.connection_ids[marketplace] = connection_id


def _settings(writer: BulkWriter, ref: Reference, start: datetime) -> None:
    admin = c.STAFF[0][0]
    for key, value, value_type, description in c.SYSTEM_SETTINGS:
        writer.add(
            "system_settings",
            {
                "key": key,
                "value": value,
                "value_type": value_type,
                "description": description,
                "updated_at": start - timedelta(days=90),
                "updated_by": admin,
            },
        )


def _articles(writer: BulkWriter, ref: Reference, start: datetime) -> None:
    authors = [ref.staff_ids[email] for email in ref.staff_emails["support"]]
    for article_id, article in enumerate(load_articles(), start=1):
        created = start + timedelta(days=(article_id * 7) % 330, hours=9)
        writer.add(
            "articles",
            {
                "id": article_id,
                "slug": article.slug,
                "title": article.title,
                "category": article.category,
                "tags": article.tags,
                "body": article.body,
                "status": "published",
                "author_id": authors[article_id % len(authors)],
                "helpful_count": 0,
                "not_helpful_count": 0,
                "created_at": created,
                "updated_at": None,
            },
        )
