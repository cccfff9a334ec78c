"""Text as searches, keyword matching and slugs compare it."""

import unicodedata

# Letters that Unicode does not split into a base letter and an accent.
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def fold(text: str) -> str:
    """Lowercase, accents removed ("Élise Gérard" -> "elise gerard"), other scripts kept: so
    that a name typed without its accents still matches."""
    decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def ascii_fold(text: str) -> str:
    """fold, then only ASCII kept: for slugs, e-mail addresses and keyword matching."""
    return fold(text).encode("ascii", "ignore").decode()
