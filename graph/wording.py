"""A merchant's wording brought to the words Comptoir's matching knows, before routing and
planning: the French shop words merchants in France mix into English ("commande",
"entrepôt", "remboursement"), chat shorthand ("pls", "rn") and one-slip typos ("inspecitons",
"catalgoue", "adress"). Quoted text, names (capitalised words), ids and codes stay as typed.

Typos are fixed only for words that are neither English (pyspellchecker's frequency list,
shipped in its wheel) nor in Comptoir's own vocabulary (agents' and tools' descriptions),
and only to a word one edit away. Among several, the slip people make most wins (two
letters swapped, then one left out, one doubled, one mistyped), then words of this domain
over general English."""

import re
import unicodedata
from collections import Counter
from functools import lru_cache

from spellchecker import SpellChecker

FRENCH = {
    "commande": "order", "commandes": "orders", "cde": "order",
    "entrepot": "warehouse", "entrepots": "warehouses", "depot": "warehouse",
    "client": "customer", "clients": "customers", "cliente": "customer",
    "colis": "parcel", "facture": "invoice", "factures": "invoices",
    "remboursement": "refund", "remboursements": "refunds", "rembourser": "refund",
    "remboursez": "refund", "retour": "return", "retours": "returns",
    "transporteur": "carrier", "transporteurs": "carriers", "livraison": "delivery",
    "livraisons": "deliveries", "annuler": "cancel", "annulez": "cancel", "annule": "cancel",
    "inventaire": "stock count", "expedition": "shipment", "expeditions": "shipments",
    "paiement": "payment", "paiements": "payments", "produit": "product",
    "produits": "products", "prix": "price", "etiquette": "label", "rgpd": "gdpr",
    "fournisseur": "supplier", "avis": "review", "stocks": "stock",
    "janvier": "january", "fevrier": "february", "mars": "march", "avril": "april",
    "mai": "may", "juin": "june", "juillet": "july", "aout": "august",
    "septembre": "september", "octobre": "october", "novembre": "november",
    "decembre": "december", "aujourd'hui": "today", "hier": "yesterday",
    "merci": "thanks", "svp": "please", "stp": "please",
}  # fmt: skip
SHORTHAND = {
    "pls": "please", "plz": "please", "thx": "thanks", "rn": "right now", "asap": "now",
    "thru": "through", "wat": "what", "u": "you", "ur": "your", "cust": "customer",
    "qty": "quantity", "refurb": "refurbished", "refurbs": "refurbished",
}  # fmt: skip

# A word standing alone: not part of a SKU, an email, a code or a number.
WORD = re.compile(r"(?<![\w\-@./])[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ']*(?![\w\-@]|[./]\w)")
QUOTE = re.compile(r"'[^']{6,}'|\"[^\"]*\"|«[^»]*»")
NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "a dozen": "12",
}  # fmt: skip
# "move one JBL-FLIP6-RED", "two units": a count before a SKU or a unit, not "the one who"
COUNTED = re.compile(
    rf"\b({'|'.join(NUMBER_WORDS)})\b(?=\s+(?:[A-Z0-9]+-[A-Z0-9-]+|units?\b|items?\b|"
    r"pieces?\b|pcs\b|of (?:them|those|these)\b))",
    re.IGNORECASE,
)
EURO_SIGN = re.compile(r"(\d)\s*€")
SHORTEST_TYPO = 4  # shorter slips have too many readings ("teh", "cna")


def plain(text: str) -> str:
    """Lowercase, accents removed: what keyword matching compares."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower()


def normalize(text: str) -> str:
    """The request with French shop words, shorthand and typos replaced."""
    quoted = [match.span() for match in QUOTE.finditer(text)]

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if word[0].isupper() or any(start <= match.start() < end for start, end in quoted):
            return word
        key = plain(word)
        return FRENCH.get(key) or SHORTHAND.get(key) or corrected(key) or word

    text = WORD.sub(replace, text)
    text = EURO_SIGN.sub(r"\1 euros", text)  # "119€": the sign would not survive plain()
    return COUNTED.sub(lambda match: NUMBER_WORDS[match.group(1).lower()], text)


def corrected(word: str) -> str | None:
    """The word meant by a one-slip typo, or None when the word is known or no fix is clear."""
    if len(word) < SHORTEST_TYPO or not word.isalpha():
        return None
    known = vocabulary()
    english = english_words()
    if word in known or word in english:
        return None
    for candidates in slips(word):
        domain = [c for c in candidates if c in known]
        if domain:
            return max(domain, key=lambda c: (known[c], c))
        general = [c for c in candidates if c in english]
        if general:
            return max(general, key=lambda c: (english[c], c))
    return None


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def slips(word: str) -> list[set[str]]:
    """Words one slip away, by how often people make that slip: two letters swapped, one
    left out, one typed twice or extra, one mistyped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    left_out = {a + c + b for a, b in splits for c in LETTERS}
    extra = {a + b[1:] for a, b in splits if b}
    mistyped = {a + c + b[1:] for a, b in splits if b for c in LETTERS}
    return [swapped, left_out, extra, mistyped]


@lru_cache(maxsize=1)
def english_words() -> dict[str, int]:
    return dict(SpellChecker(distance=1).word_frequency.dictionary)


@lru_cache(maxsize=1)
def vocabulary() -> Counter[str]:
    """Words of Comptoir's domain, counted: the agents' and tools' descriptions and the
    words the planner matches on."""
    from agents import AGENT_SPECS
    from graph.actions import ACTION_WORDS
    from graph.planner.choose import DOMAIN_WORDS
    from tools import load_tools
    from tools.base import REGISTRY

    load_tools()
    texts = [spec.description for spec in AGENT_SPECS.values()]
    for spec in REGISTRY.values():
        texts += [spec.name.replace("_", " "), spec.description]
        texts += [field.description or "" for field in spec.args_model.model_fields.values()]
    texts += [" ".join(words) for words in DOMAIN_WORDS.values()]
    texts += [" ".join(words) for words, _ in ACTION_WORDS]
    return Counter(
        word for text in texts for word in re.findall(r"[a-z]+", plain(text)) if len(word) > 2
    )
