"""Keyword search: Okapi BM25 over the passages, kept in memory and updated article by article.

Words are lowercased, stripped of accents, stop words dropped and reduced by a light English
stemmer (plurals, -ed, -ing), the same way for passages and queries, so "refunds", "refunded"
and "refunding" all find "refund".
"""

import math
import re
import unicodedata
from collections import Counter

import numpy as np

STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our",
    "should", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where",
    "which", "who", "why", "will", "with", "you", "your",
))  # fmt: skip

_VOWELS = set("aeiouy")


def words(text: str) -> list[str]:
    """Lowercase ASCII words, accents folded (Réclamation -> reclamation)."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", plain)


def stem(word: str) -> str:
    """A light suffix stripper: plural, -ed and -ing forms meet their base word (and a final
    e goes, so charge, charges and charged all give charg)."""
    stemmed = _strip_suffix(word)
    return stemmed[:-1] if len(stemmed) > 4 and stemmed.endswith("e") else stemmed


def _strip_suffix(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if (word.endswith("es") and word[-3] in "sxz") or word.endswith(("ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWELS & set(base):
            if suffix == "ed" and base.endswith("i"):
                return base[:-1] + "y"
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "sz":
                return base[:-1]  # shipped -> ship
            return base
    return word


def terms(text: str) -> list[str]:
    """The searchable terms of a text, in order (repeats kept for term frequencies)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def query_words(query: str) -> list[str]:
    """The words of a query worth searching for, each once, in order."""
    found = list(dict.fromkeys(words(query)))
    kept = [w for w in found if w not in STOPWORDS and len(w) > 1]
    return kept or found


class BM25:
    """An inverted index of passages (slots); removed slots stay empty until a rebuild."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._postings: dict[str, dict[int, int]] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lengths: list[int] = []
        self._slot_terms: list[tuple[str, ...]] = []
        self._length_array: np.ndarray | None = None
        self._live = 0
        self._total_length = 0

    def __len__(self) -> int:
        return self._live

    def add(self, text: str) -> int:
        counts = Counter(terms(text))
        slot = len(self._lengths)
        for term, count in counts.items():
            self._postings.setdefault(term, {})[slot] = count
            self._arrays.pop(term, None)
        length = sum(counts.values())
        self._lengths.append(length)
        self._slot_terms.append(tuple(counts))
        self._live += 1
        self._total_length += length
        self._length_array = None
        return slot

    def remove(self, slot: int) -> None:
        for term in self._slot_terms[slot]:
            postings = self._postings[term]
            del postings[slot]
            if not postings:
                del self._postings[term]
            self._arrays.pop(term, None)
        self._total_length -= self._lengths[slot]
        self._lengths[slot] = 0
        self._slot_terms[slot] = ()
        self._live -= 1
        self._length_array = None

    def has_term(self, slot: int, term: str) -> bool:
        return slot in self._postings.get(term, {})

    def _postings_array(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        cached = self._arrays.get(term)
        if cached is None:
            postings = self._postings[term]
            cached = (
                np.fromiter(postings.keys(), dtype=np.int64, count=len(postings)),
                np.fromiter(postings.values(), dtype=np.float32, count=len(postings)),
            )
            self._arrays[term] = cached
        return cached

    def scores(self, query: str) -> tuple[np.ndarray, list[str]]:
        """BM25 score of every slot for the query, and the query terms the index knows."""
        if self._length_array is None:
            self._length_array = np.asarray(self._lengths, dtype=np.float32)
        scores = np.zeros(len(self._lengths), dtype=np.float32)
        known = [t for t in dict.fromkeys(terms(query)) if t in self._postings]
        if not known or not self._live:
            return scores, known
        average = self._total_length / self._live
        norm = self.k1 * (1 - self.b + self.b * self._length_array / average)
        for term in known:
            slots, tf = self._postings_array(term)
            df = len(slots)
            idf = math.log(1 + (self._live - df + 0.5) / (df + 0.5))
            scores[slots] += idf * tf * (self.k1 + 1) / (tf + norm[slots])
        return scores, known
