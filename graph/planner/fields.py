"""Reading one field's value from a request by the field's own name: "reorder point to 4",
"2000 locations", "2 kg", "to Germany", "rename ... to 'X'", "exp 12/2028"."""

import re
from typing import Any

from graph.planner.extract import BIN, person_names, plain
from graph.wording import single_quoted
from tools.base import AGENTS

COUNTRIES = {
    "france": "FR", "germany": "DE", "allemagne": "DE", "belgium": "BE", "belgique": "BE",
    "spain": "ES", "espagne": "ES", "italy": "IT", "italie": "IT", "netherlands": "NL",
    "holland": "NL", "luxembourg": "LU", "switzerland": "CH", "suisse": "CH", "portugal": "PT",
    "austria": "AT", "united kingdom": "GB", "uk": "GB", "ireland": "IE", "poland": "PL",
    "sweden": "SE", "denmark": "DK",
}  # fmt: skip
QUOTED_VALUE = re.compile(single_quoted(r"([^']{2,})") + r'|"([^"]{2,})"|«\s*([^»]{2,}?)\s*»')
DECIMAL_EUROS = re.compile(r"(?<![\d.,])(\d{1,6}[.,]\d{2})(?![.,]?\d)")
STREET = re.compile(
    r"\b\d{1,4}(?:bis|ter)?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|place|allee|allée|"
    r"impasse|quai|route|cours|square|zone|za|zi)\b(?:(?!\s\d{5}\b)[^,])*",
    re.I,
)
# "code NTE, name Nantes Carquefou, …", "called Paris Nord": a new record's name
NAME_GIVEN = re.compile(r"\b(?:name[d:]?|called)\s+([A-Z][^,;.()]{1,60}?)\s*(?=[,;.()]|$)")
POSTCODE_CITY = re.compile(r"\b(\d{5})\s+([A-ZÀ-Ý][\w'À-ÿ-]+(?:[ -][A-ZÀ-Ý][\w'À-ÿ-]+)*)")
PHONE = re.compile(r"(?<!\d)(\+?\d[\d .-]{7,}\d)(?!\d)")
EXPIRY = re.compile(r"\b(?:exp\w*\s*)?(\d{1,2})\s*/\s*(\d{2}|\d{4})\b", re.I)
CODE = re.compile(r"\bcode\s*:?\s*([A-Za-z0-9][A-Za-z0-9_-]{1,29})\b")
# "88.5% on time": a carrier's on-time rate; "https://…{tracking}": its tracking link
ON_TIME = re.compile(r"(\d{1,3}(?:[.,]\d{1,2})?)\s*%\s*(?:on[ -]time|ponctu)", re.I)
TRACKING_URL = re.compile(r"https?://\S*\{tracking\}\S*")
# "tags switzerland and customs", "with the tag noel": an article's tags
TAGS = re.compile(
    r"\btags?:?\s+[\"'«]?([\w-]+(?:[\"'»]?(?:,\s*|\s+and\s+|\s+et\s+)[\"'«]?[\w-]+)*)", re.I
)
# "add Mondial Relay as a carrier": the name of what is added
NAMED_AS = re.compile(
    r"\b(?:add|create|register)\s+([A-Z][\w'&-]*(?:\s+[A-Z][\w'&-]*)*)\s+as\s+an?\b"
)
# "company: Atelier Fontaine", "Camille Fontaine from Atelier Fontaine" (two words or more
# after "from": "from Lyon" is a city)
COMPANY = re.compile(
    r"\b(?:company:?|works for)\s+([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)*)|"
    r"\b(?:from|of|at)\s+([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)+)"
)
RENAME = re.compile(
    r"\b(?:re(?:name|title)\b.*?\bto|(?:be|is|now|get) called|"
    r"new (?:name|title)(?: is)?:?)\s+(.+)$",
    re.I,
)
# "a new category called Cameras", "a collection named 'Gaming'"
CALLED = re.compile(r"\b(?:called|named)\s+(['\"«]?[A-Z0-9][^,.;:!?]*)")


CATEGORY_NAMED = re.compile(
    r"\b(?:in|from|under) the ([a-z][\w-]+) category\b|\bcategory:?\s+'?([a-z][\w-]+)|"
    r"\b(?:in|under) ([a-z][\w-]+)\s*:|\bunder ([a-z][\w-]+)\b"  # "under shipping: <text>"
)
SNAKE_WORD = re.compile(r"(?<![\w.@])[a-z]+(?:_[a-z]+)+(?![\w.@])")
OUT_OF = {"score": "5", "nps": "10"}


def _rating(name: str, lowered: str) -> int | None:
    """A survey answer: "4/5", "8 out of 10"."""
    match = re.search(rf"\b(\d{{1,2}})\s*(?:/|out of|on)\s*{OUT_OF[name]}\b", lowered)
    return int(match.group(1)) if match else None


def words_of(name: str) -> str:
    return name.removesuffix("_cents").removesuffix("_bp").replace("_", " ")


def named_number(name: str, lowered: str) -> float | None:
    """A number the request gives for this field: "reorder point of stock level 791 to 4",
    "2000 locations", "rate 2 is now 7.65"."""
    label = words_of(name)
    setter = (
        r"(?:\bto|=|:|\bat|\bof|\bis now|\bnow|\bshould be|\bmust be|\bbecomes?)"
        r"\s*(-?\d+(?:[.,]\d+)?)"
    )
    after = re.search(rf"\b{re.escape(label)}\b.{{0,40}}?{setter}", lowered)
    if after:
        return float(after.group(1).replace(",", "."))
    if right_after := re.search(rf"\b{re.escape(label)}\s+(-?\d+(?:[.,]\d+)?)\b", lowered):
        return float(right_after.group(1).replace(",", "."))  # "reorder point 3"
    last_word = label.split()[-1]
    said = "|".join(re.escape(w) for w in (last_word, *SAID_AS.get(last_word, ())))
    before = re.search(rf"(-?\d+(?:[.,]\d+)?)\s+(?:{said})\b", lowered)
    if before and len(last_word) > 3:
        return float(before.group(1).replace(",", "."))
    return None


# Other words people count a field's unit in: "2000 bins", "2 business days"
SAID_AS: dict[str, tuple[str, ...]] = {
    "locations": ("bins", "slots", "bin locations", "storage locations"),
    "days": ("business days", "working days", "day"),
}


def decimal_euros(text: str) -> int | None:
    """A price written without a currency, as people do: "make it 24.90"."""
    match = DECIMAL_EUROS.search(text)
    return round(float(match.group(1).replace(",", ".")) * 100) if match else None


def weight_grams(lowered: str) -> int | None:
    if match := re.search(r"(\d+(?:[.,]\d+)?)\s*(kg|kilos?|g|grams?)\b", lowered):
        value = float(match.group(1).replace(",", "."))
        return round(value * 1000 if match.group(2).startswith("k") else value)
    return None


def country(lowered: str) -> str | None:
    for word, code in COUNTRIES.items():
        if re.search(rf"\b{word}\b", lowered):
            return code
    return None


def quoted_for(name: str, text: str, required: bool = False) -> str | None:
    """A quoted value meant for this field: "the description of product 30: '...'",
    "rename warehouse 6 to 'Toulouse Blagnac (returns)'", or the one quote of a request
    when the field is the thing's main text (its name, title or body)."""
    quotes = [next(g for g in m.groups() if g) for m in QUOTED_VALUE.finditer(text)]
    lowered = plain(text)
    if name in ("name", "title") and (rename := RENAME.search(text)):
        value = rename.group(1).strip()
        return quotes[0] if quotes else value.strip(" .'\"")
    if name in ("name", "title") and required and (called := CALLED.search(text)):
        return quotes[0] if quotes else called.group(1).strip(" '\"«»")
    label = words_of(name)
    if quotes and re.search(rf"\b{re.escape(label)}\b", lowered):
        return quotes[0]
    if quotes and required and name in ("name", "title", "body"):
        return quotes[0]
    return None


def street(text: str) -> str | None:
    match = STREET.search(text)
    return match.group(0).strip(" ,") if match else None


def postcode_and_city(text: str) -> tuple[str, str] | None:
    match = POSTCODE_CITY.search(text)
    return (match.group(1), match.group(2)) if match else None


def phone(text: str) -> str | None:
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(1))
        if 9 <= len(digits) <= 13 and not re.fullmatch(r"\d{13,19}", digits):
            return match.group(1).strip()
    return None


def expiry(text: str) -> tuple[int, int] | None:
    if match := EXPIRY.search(text):
        month, year = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            return month, year + 2000 if year < 100 else year
    return None


def code(text: str) -> str | None:
    match = CODE.search(text)
    return match.group(1) if match else None


def person_part(name: str, text: str) -> str | None:
    names = person_names(text)
    if not names:
        return None
    first, *rest = names[0].split()
    return first if name == "first_name" else " ".join(rest) or None


def activity_flag(lowered: str) -> bool | None:
    """is_active from the verb: deactivate / disable / stop using / pause, or the reverse."""
    if re.search(
        r"\b(deactivate|disable|stop using|pause|switch off|turn off|suspend|closing|close down|"
        r"shut down|out of (?:service|our active)|done with|stop offering|no longer use)",
        lowered,
    ):
        return False
    if re.search(r"\b(reactivate|activate|enable|resume|switch on|turn on)", lowered):
        return True
    return None


def quantity(text: str) -> int | None:
    """How many: "transfer 1 JBL-FLIP6-RED", "adjust by -2"."""
    if match := re.search(r"\bby\s+(-?\d{1,5})\b", text):
        return int(match.group(1))
    if match := re.search(r"(?<![\w-])(-?\d{1,5})\s*(?:x\s*)?(?=[A-Z0-9]{2,}-[A-Z0-9])", text):
        return int(match.group(1))
    return None


def field_value(name: str, kind: Any, text: str, required: bool = False) -> Any:
    """The value of a field read by its name, or None."""
    lowered = plain(text)
    if name.endswith("weight_grams"):  # "2 kg", "up to 5 kg" for a rate's max weight
        return weight_grams(lowered)
    if name == "country":
        return country(lowered)
    texts = ("name", "title", "description", "body", "subject", "resolution")
    if name in texts and (value := quoted_for(name, text, required)):
        return value
    if name == "name" and (given := NAME_GIVEN.search(text)):
        return given.group(1)
    if name == "tags" and (tagged := TAGS.search(text)):
        said = re.split(r",\s*|\s+and\s+|\s+et\s+", tagged.group(1))
        return [t.strip("\"'«» ").lower() for t in said if t.strip("\"'«» ")]
    if name == "on_time_rate_bp" and (rate := ON_TIME.search(text)):
        return round(float(rate.group(1).replace(",", ".")) * 100)
    if name == "on_time_rate_bp":  # "on file it is still 89%; the scorecard came in at 86.5%"
        new = {
            m.group(1).replace(",", ".")
            for m in re.finditer(r"(\d{1,3}(?:[.,]\d{1,2})?)\s*%", text)
            if not re.search(r"\b(?:still|was|is|from|currently|instead of)\s+$", text[: m.start()])
        }
        return round(float(new.pop()) * 100) if len(new) == 1 else None
    if name == "tracking_url_template" and (link := TRACKING_URL.search(text)):
        return link.group(0).rstrip(".,;")
    if name == "name" and (added := NAMED_AS.search(text)):
        return added.group(1)
    if name == "bin_location" and (shelf := BIN.search(text)):
        return shelf.group(1).upper()
    if name == "address_line" or name == "line1":
        return street(text)
    if name in ("postcode", "city") and (found := postcode_and_city(text)):
        return found[0] if name == "postcode" else found[1]
    if name == "phone":
        return phone(text)
    if name in ("exp_month", "exp_year") and (found_expiry := expiry(text)):
        return found_expiry[0] if name == "exp_month" else found_expiry[1]
    if name == "code":
        return code(text)
    if name in ("first_name", "last_name"):
        return person_part(name, text)
    if name == "full_name" and (names := person_names(text)):
        return names[0]
    if name == "company":  # "Camille Fontaine from Atelier Fontaine", "her company: 'X SARL'"
        firm = COMPANY.search(text)
        return (firm.group(1) or firm.group(2)) if firm else quoted_for(name, text)
    if name == "subject" and (
        about := re.search(
            r"\b(?:about|regarding|asking|asked|complain(?:ed|s|ing)?(?: that)?)\s+([^,.;]+)", text
        )
    ):
        return about.group(1).strip()
    if name in ("agent", "source"):
        # "report the payments agent as degraded in monitoring", "an alert for transport"
        for form in (r"\b{} agent\b", r"\bfor (?:the )?{}\b", r"\b{}\b"):
            agents = [a for a in AGENTS if re.search(form.format(a.replace("_", "[ _]")), lowered)]
            if agents:
                return agents[0]
        return None
    if name == "is_active":
        return activity_flag(lowered)
    if name == "category" and kind is str and (group := CATEGORY_NAMED.search(lowered)):
        return next(g for g in group.groups() if g)  # "the articles in the shipping category"
    if name == "type" and kind is str and (event := SNAKE_WORD.search(lowered)):
        return event.group(0)  # "the latest low_stock events"
    if name in ("score", "nps") and (rating := _rating(name, lowered)) is not None:
        return rating
    if kind is int and not name.endswith("_id"):
        number = named_number(name, lowered)
        if number is not None:
            return round(number * 100) if name.endswith("_cents") else int(number)
    return None


# What the merchant wants the buyer told, most explicit first: "tell him he can download it
# from his account", "reply that it's ready", "…: he can download it from his Amazon account"
TOLD = (
    re.compile(
        r"\b(?:tell|let|inform)\s+(?:him|her|them|the (?:buyer|customer|client))\s+(?:know\s+)?"
        r"(?:that\s+)?(.+)$",
        re.I,
    ),
    re.compile(r"\b(?:reply|answer|write|respond)\b[^:]*?\bthat\s+(.+)$", re.I),
    re.compile(r":\s+(.+)$"),
)
# Reported speech made direct: "he can" -> "you can", "his account" -> "your account"
TO_THE_BUYER = (
    (
        re.compile(r"\b(?:he|she|they) (is|was|has|does)\b", re.I),
        lambda m: (
            "you " + {"is": "are", "was": "were", "has": "have", "does": "do"}[m.group(1).lower()]
        ),
    ),
    (re.compile(r"\b(?:he|she|they)'s\b", re.I), lambda m: "you're"),
    (re.compile(r"\b(?:he|she|they)\b", re.I), lambda m: "you"),
    (re.compile(r"\b(?:his|their)\b", re.I), lambda m: "your"),
    (
        re.compile(
            r"\bher(?= (?:[a-z]+ )?(?:account|order|parcel|package|invoice|refund|item|"
            r"card|address|money|return|phone|purchase)\b)",
            re.I,
        ),
        lambda m: "your",
    ),
    (re.compile(r"\b(?:him|her|them)\b", re.I), lambda m: "you"),
)


def message_body(text: str) -> str | None:
    """The message a request asks to send a buyer, written to them: "tell him he can download
    it from his account" -> "Hello, you can download it from your account. Kind regards"."""
    match = next((m for pattern in TOLD if (m := pattern.search(text))), None)
    if not match:
        return None
    said = match.group(1).strip(" .")
    for pattern, direct in TO_THE_BUYER:
        said = pattern.sub(direct, said)
    return f"Hello, {said[:1].lower()}{said[1:]}. Kind regards" if said else None
