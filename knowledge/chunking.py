"""Help articles cut into passages: one per Markdown section, long sections split at paragraphs.

Every passage starts with the article's title (and its section heading), so a passage read or
embedded alone still says what it is about. Markdown decoration (bold, code ticks, table
rules) is dropped: it costs tokens and tells the model nothing.
"""

import re
from dataclasses import dataclass

MAX_CHARS = 1000  # ~220 WordPiece tokens, under the embedder's 256 with the title line
MIN_CHARS = 280  # a shorter section joins the next one


@dataclass(frozen=True)
class Chunk:
    article_id: int
    position: int
    section: str  # "" for the introduction before the first heading
    text: str  # title, heading and section text: what is embedded and shown

    @property
    def id(self) -> str:
        return f"{self.article_id}:{self.position}"


def clean_markdown(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"\|?[\s:|-]+\|?", stripped) and "-" in stripped:
            continue  # table rule |---|---|
        if stripped.startswith("|"):
            stripped = " | ".join(cell.strip() for cell in stripped.strip("|").split("|"))
        lines.append(stripped)
    text = "\n".join(lines)
    text = re.sub(r"\*\*|__|`", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) per level-2 section; the introduction has an empty heading."""
    sections: list[tuple[str, str]] = []
    heading, lines = "", list[str]()
    for line in body.splitlines():
        if line.startswith("## "):
            sections.append((heading, "\n".join(lines)))
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    sections.append((heading, "\n".join(lines)))
    return [(h, clean_markdown(t)) for h, t in sections if h or t.strip()]


def _merge_short(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    pending: tuple[str, str] | None = None
    for heading, text in sections:
        if pending is not None:
            heading = f"{pending[0]} / {heading}" if pending[0] else heading
            text = f"{pending[1]}\n\n{text}"
            pending = None
        if len(text) < MIN_CHARS:
            pending = (heading, text)
        else:
            merged.append((heading, text))
    if pending is not None:
        if merged:
            last_heading, last_text = merged.pop()
            merged.append((f"{last_heading} / {pending[0]}", f"{last_text}\n\n{pending[1]}"))
        else:
            merged.append(pending)
    return merged


def _split_long(text: str, limit: int) -> list[str]:
    """Paragraphs (then lines, then words) packed into pieces of at most `limit` characters."""
    if len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        parts = text.split(separator)
        if len(parts) > 1:
            break
    else:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    current = ""
    for part in parts:
        for small in _split_long(part, limit):
            candidate = f"{current}{separator}{small}" if current else small
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    pieces.append(current)
                current = small
    if current:
        pieces.append(current)
    return pieces


def chunk_article(article_id: int, title: str, body: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    for heading, text in _merge_short(_sections(body)):
        header = f"{title}\n{heading}" if heading else title
        for piece in _split_long(text, MAX_CHARS - len(header)):
            chunks.append(Chunk(article_id, len(chunks), heading, f"{header}\n\n{piece}"))
    if not chunks:
        chunks.append(Chunk(article_id, 0, "", title))
    return chunks
