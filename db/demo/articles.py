"""The demo help articles, kept as Markdown files with a small front matter."""

from dataclasses import dataclass
from pathlib import Path

ARTICLES_DIR = Path(__file__).parent / "articles"


@dataclass(frozen=True)
class ArticleFile:
    slug: str
    title: str
    category: str
    tags: list[str]
    body: str


def parse_article(path: Path) -> ArticleFile:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError(f"{path.name}: missing front matter")
    header, body = text[4:].split("\n---\n", 1)
    fields: dict[str, str] = {}
    for line in header.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    tags = [tag.strip() for tag in fields.get("tags", "[]").strip("[]").split(",") if tag.strip()]
    return ArticleFile(
        slug=path.stem,
        title=fields["title"],
        category=fields["category"],
        tags=tags,
        body=body.strip() + "\n",
    )


def load_articles() -> list[ArticleFile]:
    return [parse_article(path) for path in sorted(ARTICLES_DIR.glob("*.md"))]
