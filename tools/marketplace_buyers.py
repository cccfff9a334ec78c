"""The simulated buyers of the sandbox marketplaces: names, addresses, questions, and the
marketplaces' order number formats. Everything is drawn from a seeded Random, so a buyer
or an order number derived from the same key is always the same."""

import hashlib
import math
from random import Random
from typing import Any

from db.models import Marketplace

FIRST_NAMES = {
    "FR": ("Camille", "Lucas", "Manon", "Hugo", "Léa", "Nathan", "Chloé", "Louis", "Emma",
           "Jules", "Sarah", "Gabriel", "Inès", "Arthur", "Zoé", "Mathis"),
    "DE": ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Sophie", "Leon", "Mia"),
}  # fmt: skip
LAST_NAMES = {
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Hoffmann", "Schulz"),
}  # fmt: skip
PLACES = {
    "FR": (("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("31000", "Toulouse"),
           ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"),
           ("67000", "Strasbourg"), ("35000", "Rennes"), ("06000", "Nice")),
    "BE": (("1000", "Bruxelles"), ("4000", "Liège"), ("5000", "Namur")),
    "DE": (("10115", "Berlin"), ("80331", "München"), ("20095", "Hamburg"), ("50667", "Köln")),
    "AT": (("1010", "Wien"), ("8010", "Graz"), ("5020", "Salzburg")),
}  # fmt: skip
STREETS = {
    "FR": ("rue de la République", "avenue Jean Jaurès", "boulevard Voltaire", "rue Victor Hugo",
           "rue des Lilas", "allée des Tilleuls"),
    "BE": ("rue Neuve", "chaussée de Wavre", "avenue Louise"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee"),
    "AT": ("Hauptplatz", "Mariahilfer Straße", "Schulgasse"),
}  # fmt: skip
QUESTIONS = (
    ("Delivery date", "Hello, when will my order be shipped? I need it before the weekend."),
    ("Battery health", "Hello, what is the battery health of the device exactly?"),
    ("Invoice", "Could you send me an invoice with VAT for my company?"),
    ("Charger included?", "Is a charger included in the box or only the cable?"),
    ("Change of address", "I made a mistake in my address, can you still change it?"),
    ("Cancel my order", "I ordered twice by mistake, please cancel one of the orders."),
)


def digits(key: str) -> str:
    return f"{int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10**20:020d}"


def poisson(rng: Random, rate: float) -> int:
    limit, k, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def order_number(marketplace: Marketplace, d: str) -> str:
    return {
        Marketplace.AMAZON: f"40{d[0]}-{d[1:8]}-{d[8:15]}",
        Marketplace.CDISCOUNT: f"{d[:10]}CD",
        Marketplace.BACKMARKET: f"BM{d[:10]}",
        Marketplace.REFURBED: f"RFB-{d[:10]}",
        Marketplace.MIRAKL: f"FD-{d[:10]}-A",
        Marketplace.EBAY: f"{d[:5]}-{d[5:10]}",
    }[marketplace]


def make_buyer(
    marketplace: Marketplace, countries: tuple[str, ...], rng: Random, country: str | None = None
) -> dict[str, Any]:
    """A buyer with a relay e-mail address (as marketplaces give sellers) and an address."""
    country = country or rng.choice(countries)
    names = "DE" if country in ("DE", "AT") else "FR"
    first, last = rng.choice(FIRST_NAMES[names]), rng.choice(LAST_NAMES[names])
    postcode, city = rng.choice(PLACES.get(country, PLACES["FR"]))
    street, number = rng.choice(STREETS.get(country, STREETS["FR"])), rng.randint(1, 180)
    line1 = f"{street} {number}" if names == "DE" else f"{number} {street}"
    token = f"{rng.getrandbits(48):012x}"
    return {
        "email": f"{token}@buyers.{marketplace.value}.sandbox",
        "address": {
            "full_name": f"{first} {last}",
            "line1": line1,
            "line2": None,
            "postcode": postcode,
            "city": city,
            "country": country,
        },
    }
