"""Values a request states in words: ids, SKUs, amounts, quantities, dates, emails, enum values.

Each extractor reads plain text and returns what it is sure of; the planner matches them to a
tool's parameters by name and type.
"""

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from graph.wording import plain
from tools.products_catalog import gtin_valid

# Nouns people put before an id, per id parameter.
ID_NOUNS: dict[str, tuple[str, ...]] = {
    "order_id": ("order", "orders", "commande", "cmd", "purchase", "ordr", "oder", "odrer"),
    "customer_id": ("customer", "client", "buyer"),
    "payment_id": ("payment", "transaction", "charge"),
    "return_id": ("return", "rma"),
    "shipment_id": ("shipment", "parcel", "package", "consignment"),
    "warehouse_id": ("warehouse", "site", "depot", "entrepot"),
    "product_id": ("product", "item"),
    "variant_id": ("variant",),
    "carrier_id": ("carrier",),
    "connection_id": ("connection", "account", "marketplace account"),
    "alert_id": ("alert",),
    "article_id": ("article", "help article", "kb article"),
    "inspection_id": ("inspection",),
    "claim_id": ("claim", "warranty claim"),
    "survey_id": ("survey",),
    "document_id": ("document", "doc"),
    "rate_id": ("rate",),
    "reservation_id": ("reservation",),
    "user_id": ("user", "staff user", "staff member", "employee", "staff account"),
    "key_id": ("key", "api key"),
    "stock_level_id": ("stock level",),
    "marketplace_order_id": ("marketplace order",),
    "order_line_id": ("line", "order line"),
    "category_id": ("category",),
    "payment_method_id": ("payment method", "card"),
    "message_id": ("message", "buyer message"),
}
# Numbers the shop gives its records ("RMA-2026-000184", "WAR-2026-000008"): the id they end in.
RECORD_NUMBERS: dict[str, re.Pattern[str]] = {
    "return_id": re.compile(r"\bRMA-\d{4}-0*(\d{1,9})\b", re.I),
    "claim_id": re.compile(r"\bWAR-\d{4}-0*(\d{1,9})\b", re.I),
}

# Paperwork references, not SKUs: a supplier's purchase order (PO-7781), an invoice or a
# credit note number (FA-2026-000001, AV-2026-000002), a delivery note (BL-...).
# The numbers marketplaces give their orders: Amazon, Back Market, Cdiscount, refurbed,
# Fnac Darty, eBay ("402-0105146-5146583", "BM0104229434", "2505870648CD")
MARKETPLACE_NUMBER = re.compile(
    r"\b(?:\d{3}-\d{7}-\d{7}|BM\d{10}|\d{10}CD|RFB-\d{10}|FD-\d{10}-[A-Z]|\d{5}-\d{5})\b", re.I
)
# Carriers' tracking numbers: Colissimo, Chronopost, Colis Privé, UPS; digits only (DPD,
# FedEx) after a word naming the parcel
TRACKING_NUMBER = re.compile(
    r"\b(6A\d{11}|[A-Z]{2}\d{10}FR|CP\d{12}|1Z[0-9A-Z]{16})\b|"
    r"\b(?:tracking|parcel|package|colis|suivi|shipment)\s+(?:number\s+|no\.?\s*|n°\s*|#\s*)?"
    r"(\d{12,14})\b",
    re.I,
)
REFERENCE = re.compile(r"\b(?:PO|FA|AV|BL|INV|CMD)-\d[\d-]*\b", re.I)
_NUMBER = r"#?\s*(\d{1,9})\b"
SKU = re.compile(r"\b[A-Z0-9]{2,}(?:-[A-Z0-9]{2,}){1,5}(?:-[A-Z0-9])?\b")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
WEIGHT_SAID = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:kgs?|kilos?|g|grams?)\b", re.I)
MARKS_SAID = re.compile(r"\b\d{1,2}\s*(?:/\s*\d{1,2}|out of \d{1,2})\b", re.I)  # 4/5, 9 out of 10
POSTCODE_SAID = re.compile(r",\s*\d{4,5}\s+[A-ZÀ-Ý]")  # "…, 69002 Lyon", "…, 1040 Bruxelles"
# A shelf's code: "bin B-02-11", "bin location A12"
BIN = re.compile(r"\bbin(?: location)?\s*:?\s*([A-Z0-9][A-Z0-9-]{1,15})\b", re.I)
DURATION_SAID = re.compile(
    r"\b\d{1,4}\s*(?:days?|weeks?|months?|hours?|hrs?|h|min(?:ute)?s?|jours?|semaines?|mois)\b",
    re.I,
)
# A phone number ("+33 6 11 22 33 44", "06.11.22.33.44"): its groups of digits are not ids
PHONE = re.compile(r"\+\d{1,3}(?:[\s.-]?\d){8,12}\b|\b0\d(?:[\s.-]?\d{2}){4}\b")
# A product's barcode (EAN-13, UPC-A, EAN-8), told from a card number by its check digit
BARCODE = re.compile(r"(?<![\d-])(?<!\d[ -])\b(?:\d{13}|\d{12}|\d{8})\b(?![ -]?\d)")
BARCODE_WORDS = re.compile(r"\b(?:barcode|bar code|ean|gtin|upc|code[- ]barre|scan\w*)\b", re.I)
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
MONEY = re.compile(
    r"(?:€\s*(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s*(?:€|eur\b|euros?\b))", re.I
)
QUANTITY = re.compile(r"\b(\d{1,6})\s*(?:x\b|units?|pcs|pieces|items?|copies|phones|devices)", re.I)
ISO_DATE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
LAST_DAYS = re.compile(r"\b(?:last|past)\s+(\d{1,3})\s+days?\b", re.I)
LAST_WEEKS = re.compile(r"\b(?:last|past)\s+(\d{1,2}|two|three|four)\s+weeks?\b", re.I)
MONTHS = tuple(
    """
    january february march april may june july august september october november
    december
    """.split()  # noqa: SIM905
)


@dataclass
class Found:
    """Everything recognised in a request."""

    ids: dict[str, int] = field(default_factory=dict)
    numbers: list[int] = field(default_factory=list)  # standalone numbers not claimed above
    skus: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # PO-7781, FA-2026-000001
    marketplace_numbers: list[str] = field(default_factory=list)  # BM0104229434
    tracking_numbers: list[str] = field(default_factory=list)  # 6A00030173172
    emails: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    eans: list[str] = field(default_factory=list)  # barcodes: "3760000002707"
    money_cents: list[int] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    period: tuple[date, date] | None = None
    day: date | None = None


def extract(text: str, today: date, models: frozenset[str] = frozenset()) -> Found:
    """The values a request gives. `models` are the words the catalogue puts before a model's
    number ("iphone", "flip"): a number after one is part of a product's name."""
    found = Found()
    claimed: list[tuple[int, int]] = []

    def claim(match: re.Match[str]) -> None:
        claimed.append(match.span())

    for name, pattern in RECORD_NUMBERS.items():
        for match in pattern.finditer(text):
            found.ids.setdefault(name, int(match.group(1)))
            claim(match)
    for match in TRACKING_NUMBER.finditer(text):
        number = 1 if match.group(1) else 2
        found.tracking_numbers.append(match.group(number).upper())
        claimed.append(match.span(number))
    for match in MARKETPLACE_NUMBER.finditer(text):
        found.marketplace_numbers.append(match.group(0).upper())
        claim(match)
    for match in REFERENCE.finditer(text):
        found.references.append(match.group(0).upper())
        claim(match)
    for match in BIN.finditer(text):
        claim(match)  # "move it to bin B-02-11": a shelf, not a SKU
    for kind, pattern in (("emails", EMAIL), ("ips", IP), ("skus", SKU)):
        for match in pattern.finditer(text):
            if not _overlaps(match.span(), claimed):
                getattr(found, kind).append(match.group(0))
                claim(match)
    for match in PHONE.finditer(text):
        if not _overlaps(match.span(), claimed):
            claim(match)
    for match in barcodes(text):
        found.eans.append(match.group(0))
        claim(match)
    for match in CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and not _overlaps(match.span(), claimed):
            found.cards.append(digits)
            claim(match)
    for match in MONEY.finditer(text):
        amount = (match.group(1) or match.group(2)).replace(",", ".")
        found.money_cents.append(round(float(amount) * 100))
        claim(match)
    for match in QUANTITY.finditer(text):
        if not _overlaps(match.span(), claimed):
            found.quantities.append(int(match.group(1)))
            claim(match)
    for match in ISO_DATE.finditer(text):
        claim(match)
    for pattern in (DURATION_SAID, WEIGHT_SAID, POSTCODE_SAID, MARKS_SAID):
        for match in pattern.finditer(text):
            claim(match)  # "the last 90 days", "above 30 kg", ", 69002 Lyon": no ids
    for match in re.finditer(
        r"\d+[.,]\d+|\d+(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + "|".join(MONTHS) + r")", plain(text)
    ):
        claim(match)  # decimals and day-month dates are not ids
    lowered = plain(text)
    nouns = sorted(
        ((noun, name) for name, words in ID_NOUNS.items() for noun in words),
        key=lambda pair: -len(pair[0]),
    )
    for noun, name in nouns:
        noun_then_number = rf"\b{re.escape(noun)}s?\s*(?:number|no\.?|n°|id|ref)?\s*:?\s*{_NUMBER}"
        for match in re.finditer(noun_then_number, lowered):
            if _overlaps(match.span(1), claimed):
                continue
            found.ids.setdefault(name, int(match.group(1)))
            claimed.append(match.span(1))
    # not "the 30-day window", "a 2-kg parcel": a measure
    for match in re.finditer(r"#\s*(\d{1,9})\b|(?<![\w.,-])(\d{2,9})\b(?![.,]\d|-[a-z])", lowered):
        # "#7" or a number of two digits or more: "Flip 6" names a product, not an id
        if not _overlaps(match.span(), claimed) and not _part_of_a_name(
            text, match.start(), models
        ):
            found.numbers.append(int(match.group(1) or match.group(2)))
    found.period, found.day = _dates(lowered, text, today)
    return found


# The word right before a number: "iPhone 13", "PowerCore 10000", "Cancel 3998"
WORD_BEFORE = re.compile(r"(^|[\s(\[\"'«/])([A-Za-z]+)\s+$")  # "(iPhone 14 purple)"
NUMBER_BEFORE = re.compile(r"(?:^|\s)(\d{1,4})\s+$")
# A model's code of letters and digits right before a number: "S23 256", "XM5 2"
MODEL_CODE_BEFORE = re.compile(r"(?:^|\s)(?=[A-Za-z]*\d)(?=\w*[A-Za-z])\w{2,6}\s+$")


def barcodes(text: str) -> list[re.Match[str]]:
    """The products' barcodes a text gives: a valid check digit, and a barcode named before
    it or a number no card could have."""
    found = []
    for match in BARCODE.finditer(text):
        said = BARCODE_WORDS.search(text[max(0, match.start() - 40) : match.start()])
        if gtin_valid(match.group(0)) and (said or not _luhn_valid(match.group(0))):
            found.append(match)
    return found


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, d in enumerate(int(c) for c in reversed(digits)):
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


def _part_of_a_name(text: str, start: int, models: frozenset[str] = frozenset()) -> bool:
    """Whether the number at `start` belongs to a product's name ("iPhone 13", "the Anker
    PowerCore 10000", "her iphone 14", "the S23 256") rather than standing alone: the word
    before it is a model code, one the catalogue puts before a number, written in mixed case,
    or capitalised in mid-sentence and no verb or small word ("Cancel 3998" is an id)."""
    if MODEL_CODE_BEFORE.search(text[max(0, start - 12) : start]):
        return True
    if number := NUMBER_BEFORE.search(text[:start]):  # "iphone 14 128": the storage too
        return _part_of_a_name(text, number.start(1), models)
    before = WORD_BEFORE.search(text[max(0, start - 30) : start])
    if not before:
        return False
    word = before.group(2)
    if plain(word) in models:
        return True
    if any(letter.isupper() for letter in word[1:]) and not word.isupper():  # not "ID"
        return True
    starts_sentence = not text[: start - len(before.group(0))].strip(" ,")
    return word[0].isupper() and not starts_sentence and plain(word) not in STOP | VERBS


def _overlaps(span: tuple[int, int], claimed: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in claimed)


def _dates(lowered: str, text: str, today: date) -> tuple[tuple[date, date] | None, date | None]:
    iso = [date(int(y), int(m), int(d)) for y, m, d in ISO_DATE.findall(text)]
    if len(iso) >= 2:
        return (min(iso), max(iso)), None
    if len(iso) == 1:
        return (iso[0], iso[0]), iso[0]
    if days := DAY_RANGE.search(lowered):  # "16-22 nov", "monday 16 to sunday 22 november"
        end = _day_month(int(days.group(2)), days.group(3), today)
        start = end.replace(day=min(int(days.group(1)), 28))
        if start > end:  # "28 to 3 november": from october
            start = (end.replace(day=1) - timedelta(days=1)).replace(day=start.day)
        return (start, end), None
    if full := FULL_DAYS.search(lowered):  # "the 30 full days up to yesterday"
        count = int(full.group(1) or full.group(2))
        return (today - timedelta(days=count), today - timedelta(days=1)), None
    said = [
        (m.start(), m.group(1) or m.group(4), m.group(2) or m.group(3))
        for m in DAY_MONTH.finditer(lowered)
    ]
    day_months = [_day_month(int(day), month, today) for _, day, month in said]
    if len(day_months) >= 2:
        return (min(day_months), max(day_months)), None
    if len(day_months) == 1:
        if re.search(r"\b(?:since|after)\s+(?:the\s+)?$", lowered[: said[0][0]]):
            return (day_months[0], today), None  # "since november 11th": up to today
        return (day_months[0], day_months[0]), day_months[0]
    # "since the 1st", "since the 1st of the month" (not of another month, read above)
    if first := re.search(r"\bsince the (\d{1,2})(?:st|nd|rd|th)\b(?! of (?!the month))", lowered):
        return (today.replace(day=min(int(first.group(1)), today.day)), today), None
    if "yesterday" in lowered:
        day = today - timedelta(days=1)
        return (day, day), day
    if weekday := WEEKDAY.search(lowered):  # "last friday", "since monday": the latest one
        back = (today.weekday() - WEEKDAYS.index(weekday.group(2))) % 7 or 7
        day = today - timedelta(days=back)
        return ((day, today), None) if weekday.group(1) == "since" else ((day, day), day)
    if re.search(r"\b(today|this morning|this afternoon|tonight)\b", lowered):
        return (today, today), today
    if match := LAST_DAYS.search(lowered):
        return (today - timedelta(days=int(match.group(1)) - 1), today), None
    if match := LAST_WEEKS.search(lowered):
        count = {"two": 2, "three": 3, "four": 4}.get(match.group(1)) or int(match.group(1))
        return (today - timedelta(days=7 * count - 1), today), None
    week_start = today - timedelta(days=today.weekday())
    # "so far this month", "since the start of the month": up to today
    to_date = re.search(r"\bsince the (?:start|beginning) of the (week|month|year)\b", lowered)
    if to_date:
        lowered = f"{lowered} this {to_date.group(1)}"
    if "last week" in lowered:
        return (week_start - timedelta(days=7), week_start - timedelta(days=1)), None
    if "this week" in lowered:
        return (week_start, today), None
    month_start = today.replace(day=1)
    if "last month" in lowered:
        previous_end = month_start - timedelta(days=1)
        return (previous_end.replace(day=1), previous_end), None
    if "this month" in lowered:
        return (month_start, today), None
    if "this year" in lowered:
        return (today.replace(month=1, day=1), today), None
    for index, month in enumerate(MONTHS, start=1):
        month_said = re.search(
            rf"\b(in|for|of|during|the|since)\s+{month}(?:\s+(20\d\d))?\b", lowered
        )
        if month_said:
            year = today.year if index <= today.month else today.year - 1
            year = int(month_said.group(2)) if month_said.group(2) else year  # "november 2025"
            start = date(year, index, 1)
            if month_said.group(1) == "since":  # "since october": up to today
                return (start, today), None
            following = date(year + (index == 12), index % 12 + 1, 1)
            return (start, min(following - timedelta(days=1), today)), None
    if re.search(r"\bso far\b", lowered):  # "how many orders so far?": today's
        return (today, today), today
    return None, None


MONTH_WORDS = "|".join(MONTHS) + "|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
# "11 november", "the 3rd of nov", "november 11th", "nov 11"
DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_WORDS})\b\.?|"
    rf"\b({MONTH_WORDS})\.?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.,:/]?\d)"
)
_WEEKDAY_SAID = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s+)?"
# "16-22 nov", "from 1 to 15 november", "mon 16 to sun 22 nov"
DAY_RANGE = re.compile(
    rf"\b{_WEEKDAY_SAID}(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|to|until|till|through)\s*"
    rf"{_WEEKDAY_SAID}(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_WORDS})\b"
)
# Whole days before today: "the last 7 full days", "30 days up to yesterday"
FULL_DAYS = re.compile(
    r"\b(?:last|past|the)\s+(\d{1,3})\s+(?:full|complete|whole)\s+days?\b|"
    r"\b(\d{1,3})\s+(?:full\s+|complete\s+|whole\s+)?days?\s+(?:up to|until|ending|to)\s+"
    r"yesterday\b"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY = re.compile(rf"\b(last|on|since|this past) ({'|'.join(WEEKDAYS)})\b")


def _day_month(day: int, month: str, today: date) -> date:
    number = next(i for i, name in enumerate(MONTHS, start=1) if name.startswith(month[:3]))
    year = today.year if (number, day) <= (today.month, today.day) else today.year - 1
    return date(
        year, number, min(day, 28 if number == 2 else 30 if number in (4, 6, 9, 11) else 31)
    )


REASON = re.compile(
    r"(?:because|since|reason\s*:?|as)\s+(.+)$|,\s*((?:the\s+)?(?:customer|client|buyer|it|they|"
    r"he|she|item|product|parcel).+)$",
    re.I,
)


def reason(text: str) -> str | None:
    """The why of a request: 'cancel order 12, the customer changed their mind'."""
    match = REASON.search(text)
    if not match:
        return None
    return (match.group(1) or match.group(2)).strip(" .!")


STOP = frozenset(
    """
    a an the of for to in on at by with and or please pls can could would you me my our
    we i show list find get give tell what which who is are was were do does did how
    many much any all some there this that these those it its about from need want check
    look up search see details info information status anything something should be
    now just really been will would like put make euro euros eur over under since during
    last past per into
    """.split()  # noqa: SIM905
)


def keywords(text: str, drop: set[str] | frozenset[str] = frozenset()) -> str:
    """The words of a request that name a thing, for a free-text search argument."""
    words = re.findall(r"[\w'-]+", text)
    ignored = STOP | VERBS | ASKING | drop
    kept = [w for w in words if plain(w) not in ignored and not w.isdigit()]
    return " ".join(kept)


ASKING = frozenset(
    """sell selling sold carry have got stock stocked offer offering know tell whats what's
    where when does do we us our""".split()  # noqa: SIM905
)

NAME = re.compile(r"\b([A-Z][a-zà-ÿ'-]+(?:\s+(?:de\s+|le\s+|la\s+)?[A-Z][a-zà-ÿ'-]+)+)\b")


LOWER_WORD = re.compile(r"(?<![\w@.])[a-zà-ÿ][a-zà-ÿ'’-]*")


def capitalise_people(text: str, firsts: frozenset[str], lasts: frozenset[str]) -> str:
    """The request with the names of known people typed in lower case capitalised ("cancel
    jules guillot's order" -> "cancel Jules Guillot's order"): a first name followed by a
    last name, both of people the shop knows (folded, as `plain` gives them)."""
    words = list(LOWER_WORD.finditer(text))
    spans = []
    for first, last in itertools.pairwise(words):
        surname = re.sub(r"['’]s$", "", last.group(0))
        between = text[first.end() : last.start()]
        if between == " " and plain(first.group(0)) in firsts and plain(surname) in lasts:
            spans += [first.start(), last.start()]
    for start in spans:
        text = text[:start] + text[start].upper() + text[start + 1 :]
    return text


def person_names(text: str) -> list[str]:
    """Capitalised word runs that look like a person's name ('Chloé Fontaine')."""
    names = []
    for match in NAME.finditer(text):
        words = match.group(1).split()
        if match.start() == 0 and plain(words[0]) in STOP | VERBS | OPENERS:
            words = words[1:]
        # "Sarah Giraud's email", "Hugo Robin's Amazon order": the name ends at its possessive
        owner = next((i for i, w in enumerate(words) if re.search(r"['’]s$", w)), None)
        if owner is not None:
            words = [*words[:owner], re.sub(r"['’]s$", "", words[owner])]
        if len(words) >= 2:
            names.append(" ".join(words))
    return names


# Words opening a question or a request, capitalised as a sentence's first word ("Has Emma
# Benoît ever been flagged?")
OPENERS = frozenset(
    {"has", "have", "is", "are", "was", "were", "does", "did", "do", "can", "could", "would",
     "will", "should", "please", "pls", "why", "when", "where", "who", "how", "what", "which"}
)  # fmt: skip
VERBS = frozenset(
    """
    cancel refund block unblock show list create add generate track reserve release
    transfer sync push send mark delete update change set schedule start complete
    approve authorize reject receive inspect redeem erase deactivate revoke resolve
    acknowledge quote capture void
    """.split()  # noqa: SIM905
)
