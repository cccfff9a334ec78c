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
from collections import Counter
from functools import lru_cache

from spellchecker import SpellChecker

from core.text import ascii_fold

FRENCH = {
    "commande": "order", "commandes": "orders", "cde": "order",
    "rouge": "red", "rouges": "red", "noir": "black", "noire": "black", "noirs": "black",
    "noires": "black", "blanc": "white", "blanche": "white", "blancs": "white",
    "blanches": "white", "bleu": "blue", "bleue": "blue", "bleus": "blue", "bleues": "blue",
    "vert": "green", "verte": "green", "verts": "green", "vertes": "green", "gris": "grey",
    "grise": "grey", "rose": "pink", "roses": "pink", "jaune": "yellow", "jaunes": "yellow",
    "violet": "purple", "violette": "purple", "manette": "controller", "manettes": "controllers",
    "bloquee": "blocked", "bloquees": "blocked", "bloques": "blocked",
    "canal": "channel", "canaux": "channels", "declinaison": "variant",
    "declinaisons": "variants", "sortir": "show",
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
    "rembourse": "refund", "remboursee": "refunded", "debloque": "unblock",
    "debloquer": "unblock", "debloquez": "unblock", "bloque": "block", "bloquer": "block",
    "bloquez": "block", "garantie": "warranty", "garanties": "warranties",
    "reconditionne": "refurbished", "reconditionnee": "refurbished",
    "reconditionnes": "refurbished", "reconditionnees": "refurbished", "taux": "rate",
    "defaut": "defect", "defauts": "defects", "systeme": "system", "duree": "period",
    "rempli": "full", "remplie": "full", "combien": "how much", "adresse": "address",
    "adresses": "addresses", "alerte": "alert", "alertes": "alerts", "politique": "policy",
    "fraude": "fraud", "frauduleux": "fraudulent", "frauduleuse": "fraudulent",
    "risque": "risk", "qualite": "quality", "ventes": "sales", "vente": "sale",
    "expedie": "shipped", "expediee": "shipped", "expedier": "ship", "suivi": "tracking",
    "parametre": "setting", "parametres": "settings", "reglage": "setting",
    "reglages": "settings", "utilisateur": "user", "cle": "key", "mets": "put",
    "mettez": "put", "mettre": "put", "quel": "what", "quelle": "what", "quels": "what",
    "quelles": "what", "pourquoi": "why", "comment": "how", "recupere": "pull",
    "recuperer": "pull", "recuperez": "pull", "jours": "days", "semaines": "weeks",
    "evalue": "assess", "evaluez": "assess", "avoir": "credit note", "avoirs": "credit notes",
    "renvoyer": "send back", "retourner": "return", "supprime": "delete", "supprimer": "delete",
    "supprimez": "delete", "dispo": "availability", "depuis": "since", "lundi": "monday",
    "mardi": "tuesday", "mercredi": "wednesday", "jeudi": "thursday", "vendredi": "friday",
    "samedi": "saturday", "dimanche": "sunday",
    "carte": "card", "cartes": "cards", "enregistre": "saved", "enregistrees": "saved",
    "enregistree": "saved", "enregistres": "saved", "seuil": "threshold", "frais": "fees",
    "cloturer": "close", "cloture": "close", "cloturez": "close", "conforme": "passed",
    "conformes": "passed", "aucun": "no", "aucune": "no", "chaque": "each",
}  # fmt: skip
# French phrases, before single words: "en attente" is a hold, "geste commercial" a goodwill
# gesture, "est-ce que" only turns a sentence into a question.
FRENCH_PHRASES = (
    (re.compile(r"\ben attente de (?:paiement|r[eè]glement)\b", re.I), "pending payment"),
    (re.compile(r"\ben attente\b", re.I), "on hold"),
    (re.compile(r"\bgeste commercial\b", re.I), "goodwill gesture"),
    (re.compile(r"\bpi[eè]ces? d'identit[eé]\b", re.I), "ID document"),
    (re.compile(r"\bchiffre d'affaires?\b", re.I), "revenue"),
    (re.compile(r"\b(?:le|du|notre) CA\b"), "the revenue"),
    (re.compile(r"\btableau de bord\b", re.I), "dashboard"),
    (re.compile(r"\bchiffres du jour\b", re.I), "today's numbers"),
    (re.compile(r"\ben cours\b", re.I), "open"),
    (re.compile(r"\bc'est quoi\b", re.I), "what is"),
    (
        re.compile(
            r"\bcombien (?:[çc]a|cela) co[uû]te(?:rait)? (?:d'|de )(?:envoyer|exp[eé]dier)\b", re.I
        ),
        "how much to send",
    ),
    (re.compile(r"\btaux de d[eé]fauts?\b", re.I), "defect rate"),
    (re.compile(r"\b(?:sur )?les (\d{1,3}) derniers jours\b", re.I), r"the last \1 days"),
    (re.compile(r"\bpendant (\d{1,3}) jours\b", re.I), r"for \1 days"),
    (re.compile(r"\bruptures? de stock\b", re.I), "out of stock"),
    (re.compile(r"\blistes? de pr[eé]paration\b", re.I), "pick list"),
    (re.compile(r"\btaux de retours?\b", re.I), "return rate"),
    (re.compile(r"\btaux d'annulations?\b", re.I), "cancellation rate"),
    (re.compile(r"\best-ce qu(?:e |')", re.I), ""),
    (re.compile(r"\b(?:fen[eê]tre|d[eé]lai) de retours?\b", re.I), "return window"),
    (re.compile(r"\b(?:on en est o[uù] d[ue]s? )?(?:taux de )?remplissage\b", re.I), "how full is"),
    (re.compile(r"\bil (?:nous |vous )?reste\b|\bnous reste\b", re.I), "are left"),
    (re.compile(r"\bpanier moyen\b", re.I), "average order value"),
    (re.compile(r"\bcombien de temps\b", re.I), "how long"),
    (re.compile(r"\bhors d[eé]lai\b", re.I), "past the deadline"),
    (re.compile(r"\b(?:mettre|mets|mettez|mise) [àa] jour\b", re.I), "update"),
    (re.compile(r"\bhors service\b", re.I), "out of service"),
    (re.compile(r"\bbons? d'achats?\b", re.I), "vouchers"),
    (re.compile(r"\bdepuis (?:le )?d[eé]but (?:du mois )?(?:de |d')", re.I), "since "),
    (re.compile(r"\b(\d{1,2}) sur (5|10)\b", re.I), r"\1 out of \2"),  # a mark: "4 sur 5"
    (re.compile(r"\b(?:est )?remplie? [àa] combien\b", re.I), "how full is it"),
    (re.compile(r"\bmoyens? de paiement\b", re.I), "payment method"),
    (re.compile(r"\bde chaque\b", re.I), "of each"),
    (re.compile(r"\bpar rapport (?:[àa]u|aux|[àa] la|[àa])\b", re.I), "compared to"),
    (re.compile(r"\bsans (?:les? |la )?supprimer\b", re.I), "without deleting"),
    (re.compile(r"\barr[eê]te[rz]? (?:de (?:les? |la )?|d')utiliser\b", re.I), "stop using"),
    (
        re.compile(r"\b(?:le )?seuil de (?:la )?livraison gratuite\b", re.I),
        "the free shipping threshold",
    ),
    (re.compile(r"\blivraison gratuite\b", re.I), "free shipping"),
    # "mets l'iPhone 14 128 Go sur refurbed à 459 €": an offer, at a price
    (re.compile(r"(\d+)\s*Go\b"), r"\1GB"),
    (
        re.compile(
            r"^(?:mets|mettez|passe[rz]?) (.{1,60}?) sur (amazon|cdiscount|back ?market|ebay|fnac|"
            r"refurbed|mirakl) [àa] (\d)",
            re.I,
        ),
        r"put \1 on \2 at \3",
    ),
    # "passe la fenêtre de retour à 45 jours": a value to set
    (re.compile(r"^(?:passe[rz]?|mets|mettez) (.{1,60}?) [àa] (\d)", re.I), r"set \1 to \2"),
)
# Words only French sentences have: in one, a word unknown to English is French, not a typo.
FRENCH_MARKERS = frozenset(
    {"le", "la", "les", "des", "du", "au", "aux", "est", "une", "sur", "pour", "que", "qui",
     "il", "elle", "nous", "vous", "avec", "dans", "sont", "et", "tout", "ce", "cette", "mon",
     "mes", "sa", "ses", "leur", "pas", "ne", "moi", "je", "en", "nos", "vos", "quel",
     "quelle", "quels", "quoi", "combien", "ou", "mais", "donc", "aussi", "deja", "tu",
     "peux", "pouvez", "stp", "svp", "merci", "bonjour", "avons", "avez", "quelles"}
)  # fmt: skip
# French imperatives a request opens with: "Passe le seuil…", "Annule la commande…"
FRENCH_OPENERS = frozenset(
    {"passe", "mets", "annule", "bloque", "debloque", "rembourse", "envoie", "cree", "ajoute",
     "supprime", "evalue", "baisse", "augmente", "affiche", "donne", "genere"}
)  # fmt: skip
SHORTHAND = {
    "pls": "please", "plz": "please", "thx": "thanks", "rn": "right now", "asap": "now",
    "thru": "through", "wat": "what", "u": "you", "ur": "your", "cust": "customer", "mov": "move",
    "qty": "quantity", "refurb": "refurbished", "refurbs": "refurbished", "wh": "warehouse",
    "msg": "message", "msgs": "messages", "addr": "address", "bm": "Back Market", "amz": "Amazon",
    # contractions typed without their apostrophe, not typos of other words ("dont": no donut)
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "cant": "can't", "wont": "won't",
    "isnt": "isn't", "wasnt": "wasn't", "hasnt": "hasn't", "havent": "haven't",
    "arent": "aren't", "shouldnt": "shouldn't", "couldnt": "couldn't", "whats": "what's",
    "thats": "that's", "theres": "there's", "hes": "he's", "shes": "she's", "im": "I'm",
}  # fmt: skip

# A word standing alone: not part of a SKU, an email, a code or a number.
WORD = re.compile(r"(?<![\w\-@./])[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ']*(?![\w\-@]|[./]\w)")


def single_quoted(body: str) -> str:
    """A pattern for `body` between single quotes: an apostrophe inside a word ("l'adresse",
    "c'est", "we're") opens or closes nothing."""
    return rf"(?<![A-Za-zÀ-ÿ])'{body}'(?![A-Za-zÀ-ÿ])"


QUOTE = re.compile(single_quoted(r"[^']{6,}") + r'|"[^"]*"|«[^»]*»')
NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "a dozen": "12",
}  # fmt: skip
# "move one JBL-FLIP6-RED", "two MX Master 3S", "two units": a count before a SKU, a
# product named in capitals or a unit; not "the one who"
COUNTED = re.compile(
    rf"\b({'|'.join(NUMBER_WORDS)})\b(?=\s+(?:[A-Z0-9]+-[A-Z0-9-]+|"
    r"(?-i:[A-Z]{2}|[A-Z][a-z]+ [A-Z])|units?\b|items?\b|"
    r"pieces?\b|pcs\b|of (?:them|those|these)\b))",
    re.IGNORECASE,
)
EURO_SIGN = re.compile(r"(\d)\s*€")
# A number written with a space between its thousands (French style), not a phone number's
# pairs, a card number's fours, nor a model then its storage ("iPhone 14 128")
THOUSANDS = re.compile(
    r"(?<![\d+])(?<!\d )\b(\d{1,3})[ \u00a0\u202f](?!(?:128|256|512)\b)(\d{3})\b"
    r"(?![ \u00a0\u202f]?\d)"
)
# A count written with a comma between its thousands ("4,500 locations"), not an amount in
# euros ("4,50 €") nor a list ("3964,3965")
COMMA_THOUSANDS = re.compile(r"(?<![\d,.])\b(\d{1,3}),(\d{3})\b(?![,.]\d)(?!\s*(?:€|eur))", re.I)
ELISION = re.compile(r"(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)'\w", re.I)
SHORTEST_TYPO = 4  # shorter slips have too many readings ("teh", "cna")


def plain(text: str) -> str:
    """Lowercase, accents removed: what keyword matching compares."""
    return ascii_fold(text)


def normalize(text: str, names: frozenset[str] = frozenset()) -> str:
    """The request with French shop words, shorthand and typos replaced. `names` are words
    the shop uses that no dictionary knows (its brands and models: "fitbit"): never typos."""
    french = is_french(text)
    if french:  # quoted text stays as typed
        pieces = re.split(f"({QUOTE.pattern})", text)
        for number in range(0, len(pieces), 2):
            for phrase, meant in FRENCH_PHRASES:
                pieces[number] = phrase.sub(meant, pieces[number])
        text = "".join(pieces).strip()
    quoted = [match.span() for match in QUOTE.finditer(text)]

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if any(start <= match.start() < end for start, end in quoted):
            return word
        # "l'entrepôt", "d'identité": the word after the elided article
        elided, _, rest = word.rpartition("'") if ELISION.match(word) else ("", "", word)
        key = plain(rest)
        if key in names and _beside_a_name(text, match, names):
            return word  # "Colis Privé" is a carrier, not a parcel
        if rest[0].isupper():
            # a name, unless a French word opening the sentence ("Débloque le client 605")
            before = text[: match.start()]
            opening = not before.strip(" ¿¡\"'") or before.rstrip()[-1:] in ".?!"
            translated = FRENCH.get(key) if french and opening else None
            return f"{elided}'{translated}" if translated and elided else translated or word
        # in a French sentence an unknown word is French (or has its accents): not a typo
        fixed = FRENCH.get(key) or SHORTHAND.get(key)
        if not fixed and not french and rest.isascii() and key not in names:
            fixed = corrected(key)
        if not fixed:
            return word
        return f"{elided}'{fixed}" if elided else fixed

    text = WORD.sub(replace, text)
    text = EURO_SIGN.sub(r"\1 euros", text)  # "119€": the sign would not survive plain()
    text = THOUSANDS.sub(r"\1\2", text)  # "2 800 locations", "over 2 000 euros"
    text = COMMA_THOUSANDS.sub(r"\1\2", text)  # "4,500 locations"
    return COUNTED.sub(lambda match: NUMBER_WORDS[match.group(1).lower()], text)


def _beside_a_name(text: str, match: re.Match[str], names: frozenset[str]) -> bool:
    """Whether the word next to the matched one (before or after it, across a space or a
    hyphen) is also one of the shop's names: together they name something."""
    before = re.search(r"([A-Za-zÀ-ÿ]+)[ -]$", text[: match.start()])
    after = re.match(r"[ -]([A-Za-zÀ-ÿ]+)", text[match.end() :])
    return any(near is not None and plain(near.group(1)) in names for near in (before, after))


def is_french(text: str) -> bool:
    """Whether a request is written in French: two of the small words only French has."""
    said = re.findall(r"[a-z]+", plain(QUOTE.sub(" ", text)))
    markers = len(set(said) & FRENCH_MARKERS) + (bool(said) and said[0] in FRENCH_OPENERS)
    return markers >= 2 or bool(re.search(r"\best-ce\b", text, re.I))


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
