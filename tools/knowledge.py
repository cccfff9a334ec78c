"""Tools of the knowledge agent: help articles (CRUD and list), keyword search, and what staff
said about an article's helpfulness."""

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.base import as_utc, utc_now
from db.models import Article, ArticleFeedback, ArticleStatus
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate

ArticleId = Annotated[int, Field(ge=1, description="Id of the article.")]
CategoryArg = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9-]{1,39}$",
        description="Category slug, lowercase, e.g. returns, shipping, payments.",
    ),
]
Tags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=40)]],
    Field(max_length=20, description="Keywords people search with, e.g. ['refund', 'rma']."),
]
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our",
    "should", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where",
    "which", "who", "why", "will", "with", "you", "your",
))  # fmt: skip


class ArticleSummary(BaseModel):
    id: int
    slug: str
    title: str
    category: str
    tags: list[str]
    status: ArticleStatus
    helpful_count: int
    not_helpful_count: int
    updated_at: datetime | None


class ArticleOut(ArticleSummary):
    body: str
    author_id: int | None
    created_at: datetime


def _summary(article: Article) -> ArticleSummary:
    return ArticleSummary(
        id=article.id or 0,
        slug=article.slug,
        title=article.title,
        category=article.category,
        tags=[str(t) for t in article.tags],
        status=article.status,
        helpful_count=article.helpful_count,
        not_helpful_count=article.not_helpful_count,
        updated_at=as_utc(article.updated_at) if article.updated_at else None,
    )


def _out(article: Article) -> ArticleOut:
    return ArticleOut(
        **_summary(article).model_dump(),
        body=article.body,
        author_id=article.author_id,
        created_at=as_utc(article.created_at),
    )


def _snapshot(article: Article) -> dict[str, object]:
    return {
        "slug": article.slug,
        "title": article.title,
        "category": article.category,
        "tags": list(article.tags),
        "status": ArticleStatus(article.status).value,
        "body_chars": len(article.body),
    }


def insert_unique(ctx: ToolContext, row: Any, message: str, field: str) -> None:
    """Insert a row whose unique key was checked free; if a concurrent request took it
    meanwhile (PostgreSQL), answer a Conflict instead of a 500."""
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
    except sa.exc.IntegrityError:
        raise Conflict(message, field=field) from None


def slugify(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:150] or "article"


def _clean_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


@tool(agent="knowledge", path="/knowledge/articles", writes=True)
def create_article(
    ctx: ToolContext,
    title: Annotated[
        str, Field(min_length=5, max_length=200, description="Title, a question or a task.")
    ],
    category: CategoryArg,
    body: Annotated[str, Field(min_length=20, max_length=50_000, description="Markdown text.")],
    tags: Tags = [],  # noqa: B006  (pydantic copies defaults)
    status: Annotated[
        ArticleStatus, Field(description="draft, published (default) or archived.")
    ] = ArticleStatus.PUBLISHED,
    slug: Annotated[
        str | None,
        Field(
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            max_length=160,
            description="URL name; derived from the title when omitted.",
        ),
    ] = None,
) -> ArticleOut:
    """Write a help article (how-to or policy) for staff and the assistant. Published articles
    are found by search_articles; drafts are not."""
    if slug is not None:
        if ctx.session.exec(select(Article.id).where(Article.slug == slug)).first():
            raise Conflict(f"an article with slug {slug} already exists", field="slug")
    else:
        base = slug = slugify(title)
        taken = set(
            ctx.session.exec(
                select(Article.slug).where(
                    sa.or_(col(Article.slug) == base, col(Article.slug).startswith(f"{base}-"))
                )
            ).all()
        )
        number = 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
    now = utc_now()
    article = Article(
        slug=slug,
        title=title.strip(),
        category=category,
        tags=_clean_tags(tags),
        body=body.strip() + "\n",
        status=status,
        author_id=ctx.actor.user_id,
        created_at=now,
        updated_at=now,
    )
    insert_unique(ctx, article, f"an article with slug {slug} already exists", "slug")
    ctx.record(
        action="create_article",
        entity_type="article",
        entity_id=article.id,
        event="article_created",
        domain="knowledge",
        after=_snapshot(article),
    )
    return _out(article)


@tool(agent="knowledge", path="/knowledge/articles/{article_id}")
def get_article(ctx: ToolContext, article_id: ArticleId) -> ArticleOut:
    """Read one help article in full, with its helpfulness counters."""
    return _out(get_or_404(ctx.session, Article, article_id))


@tool(agent="knowledge", path="/knowledge/articles/{article_id}", method="PATCH", writes=True)
def update_article(
    ctx: ToolContext,
    article_id: ArticleId,
    title: Annotated[
        str | None, Field(min_length=5, max_length=200, description="New title.")
    ] = None,
    category: Annotated[
        str | None,
        Field(pattern=r"^[a-z][a-z0-9-]{1,39}$", description="New category slug."),
    ] = None,
    body: Annotated[
        str | None, Field(min_length=20, max_length=50_000, description="New Markdown text.")
    ] = None,
    tags: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]] | None,
        Field(max_length=20, description="New tags, replacing the old ones."),
    ] = None,
    status: Annotated[
        ArticleStatus | None, Field(description="draft, published or archived.")
    ] = None,
) -> ArticleOut:
    """Edit a help article: title, category, body, tags, or publish/archive it. The slug stays,
    so links keep working."""
    article = get_or_404(ctx.session, Article, article_id, lock=True)
    before = _snapshot(article)
    changes = {
        "title": title.strip() if title else None,
        "category": category,
        "body": body.strip() + "\n" if body else None,
        "tags": _clean_tags(tags) if tags is not None else None,
        "status": status,
    }
    changes = {k: v for k, v in changes.items() if v is not None and v != getattr(article, k)}
    if not changes:
        raise InvalidInput(
            f"nothing to change: article {article_id} already reads like that", field=None
        )
    for key, value in changes.items():
        setattr(article, key, value)
    article.updated_at = utc_now()
    ctx.session.add(article)
    ctx.record(
        action="update_article",
        entity_type="article",
        entity_id=article.id,
        event="article_updated",
        domain="knowledge",
        before=before,
        after={**_snapshot(article), "changed": sorted(changes)},
    )
    return _out(article)


@tool(
    agent="knowledge",
    path="/knowledge/articles/{article_id}",
    method="DELETE",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def delete_article(ctx: ToolContext, article_id: ArticleId) -> ArticleSummary:
    """Delete a help article and the feedback given on it. To keep it out of search but keep
    its history, archive it instead (update_article with status archived)."""
    article = get_or_404(ctx.session, Article, article_id, lock=True)
    summary = _summary(article)
    feedback = ctx.session.exec(
        select(sa.func.count())
        .select_from(ArticleFeedback)
        .where(ArticleFeedback.article_id == article_id)
    ).one()
    ctx.session.exec(  # type: ignore[call-overload]
        sa.delete(ArticleFeedback).where(col(ArticleFeedback.article_id) == article_id)
    )
    ctx.session.delete(article)
    ctx.record(
        action="delete_article",
        entity_type="article",
        entity_id=article_id,
        event="article_deleted",
        domain="knowledge",
        before={**_snapshot(article), "feedback_deleted": feedback},
    )
    return summary


@tool(agent="knowledge", path="/knowledge/articles")
def list_articles(
    ctx: ToolContext,
    category: Annotated[str | None, Field(max_length=40, description="Only this category.")] = None,
    status: Annotated[
        ArticleStatus | None, Field(description="Only this status (default: all).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ArticleSummary]:
    """List help articles (without their text), optionally of one category or status."""
    statement = select(Article)
    if category:
        statement = statement.where(Article.category == category)
    if status is not None:
        statement = statement.where(Article.status == status)
    rows, next_cursor = paginate(
        ctx.session, statement, Article.id, limit, cursor, descending=False
    )
    return Page(items=[_summary(a) for a in rows], next_cursor=next_cursor)


class SearchHit(BaseModel):
    article: ArticleSummary
    score: float = Field(
        description="Per query word: 3 per title match, 2 per tag, 1 per body match (3 at most),"
        " scaled by the share of the query words the article holds."
    )
    matched: list[str] = Field(description="Query words found in the article.")
    excerpt: str = Field(description="The passage around the first match in the body.")


class SearchResult(BaseModel):
    query: str
    method: Literal["keyword"]
    words: list[str] = Field(description="The words searched for (stop words dropped).")
    hits: list[SearchHit]


def _words(query: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", query.lower()).encode("ascii", "ignore").decode()
    words = list(dict.fromkeys(re.findall(r"[a-z0-9]+", plain)))
    kept = [w for w in words if w not in STOPWORDS and len(w) > 1]
    return kept or words


def _pattern(word: str) -> re.Pattern[str]:
    """Matches the word at the start of a word, plural and -ed/-ing forms included."""
    stem = word
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            stem = word[: -len(suffix)]
            break
    return re.compile(rf"\b{re.escape(stem)}", re.IGNORECASE)


def _excerpt(body: str, patterns: list[re.Pattern[str]]) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"[#*_`>]", "", body)).strip()
    starts = [m.start() for p in patterns if (m := p.search(text))]
    at = min(starts) if starts else 0
    begin = max(0, text.rfind(" ", 0, max(0, at - 80)) + 1) if at > 80 else 0
    snippet = text[begin : begin + 240]
    return ("…" if begin else "") + snippet + ("…" if begin + 240 < len(text) else "")


@tool(agent="knowledge", path="/knowledge/search")
def search_articles(
    ctx: ToolContext,
    query: Annotated[
        str, Field(min_length=2, max_length=300, description="Question or keywords, any case.")
    ],
    category: Annotated[str | None, Field(max_length=40, description="Only this category.")] = None,
    limit: Annotated[int, Field(ge=1, le=20, description="How many articles to return.")] = 5,
) -> SearchResult:
    """Find published help articles answering a question: case-insensitive keyword match of
    the query's words in titles, tags and text, best matches first (title matches weigh
    most). Use it before answering how-to or policy questions, and cite the articles."""
    words = _words(query)
    if not words:
        raise InvalidInput("the query has no words to search for", field="query")
    patterns = [_pattern(w) for w in words]
    statement = select(Article).where(Article.status == ArticleStatus.PUBLISHED)
    if category:
        statement = statement.where(Article.category == category)
    hits = []
    for article in ctx.session.exec(statement).all():
        tags = " ".join(str(t) for t in article.tags)
        score, matched = 0.0, []
        for word, pattern in zip(words, patterns, strict=True):
            in_title = len(pattern.findall(article.title))
            in_tags = len(pattern.findall(tags))
            in_body = min(len(pattern.findall(article.body)), 3)
            if in_title or in_tags or in_body:
                matched.append(word)
                score += 3 * in_title + 2 * in_tags + in_body
        if matched:
            # Articles holding more of the query's words rank above ones repeating one word.
            score *= len(matched) / len(words)
            hits.append((score, article, matched))
    hits.sort(key=lambda h: (-h[0], h[1].id))
    return SearchResult(
        query=query,
        method="keyword",
        words=words,
        hits=[
            SearchHit(
                article=_summary(article),
                score=round(score, 2),
                matched=matched,
                excerpt=_excerpt(article.body, patterns),
            )
            for score, article, matched in hits[:limit]
        ],
    )


class FeedbackOut(BaseModel):
    id: int
    article_id: int
    helpful: bool
    comment: str | None
    query: str | None
    helpful_count: int
    not_helpful_count: int
    created_at: datetime


@tool(agent="knowledge", path="/knowledge/articles/{article_id}/feedback", writes=True)
def mark_article_helpful(
    ctx: ToolContext,
    article_id: ArticleId,
    helpful: Annotated[bool, Field(description="true if the article helped, false if not.")],
    comment: Annotated[
        str | None, Field(max_length=500, description="What was missing or wrong, if anything.")
    ] = None,
    query: Annotated[
        str | None, Field(max_length=300, description="The search that led to the article.")
    ] = None,
) -> FeedbackOut:
    """Record whether an article helped, with an optional comment and the search that led to
    it; the article's helpful / not helpful counters go up by one."""
    article = get_or_404(ctx.session, Article, article_id, lock=True)
    if article.status == ArticleStatus.ARCHIVED:
        raise Conflict(
            f"article {article_id} is archived; feedback goes to the article replacing it",
            field="article_id",
        )
    if helpful:
        article.helpful_count += 1
    else:
        article.not_helpful_count += 1
    ctx.session.add(article)
    feedback = ArticleFeedback(
        article_id=article_id,
        helpful=helpful,
        comment=comment.strip() if comment and comment.strip() else None,
        query=query.strip() if query and query.strip() else None,
        user_id=ctx.actor.user_id,
        created_at=utc_now(),
    )
    ctx.session.add(feedback)
    ctx.session.flush()
    ctx.record(
        action="mark_article_helpful",
        entity_type="article",
        entity_id=article_id,
        event="article_feedback_recorded",
        domain="knowledge",
        after={
            "feedback_id": feedback.id,
            "helpful": helpful,
            "comment": feedback.comment,
            "query": feedback.query,
            "helpful_count": article.helpful_count,
            "not_helpful_count": article.not_helpful_count,
        },
    )
    return FeedbackOut(
        id=feedback.id or 0,
        article_id=article_id,
        helpful=helpful,
        comment=feedback.comment,
        query=feedback.query,
        helpful_count=article.helpful_count,
        not_helpful_count=article.not_helpful_count,
        created_at=feedback.created_at,
    )
