"""Tools of the knowledge agent: help articles (CRUD and list), search (vector, keyword or
hybrid, see knowledge.search), and what staff said about an article's helpfulness."""

import re
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, select

from core.text import ascii_fold
from db.base import as_utc, utc_now
from db.models import Article, ArticleFeedback, ArticleStatus
from knowledge.keyword import query_words
from knowledge.search import Mode as SearchMode
from knowledge.search import search
from knowledge.store import VectorStoreUnavailable
from tools.base import MANAGERS, Conflict, InvalidInput, ProviderError, ToolContext, tool
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
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text)).strip("-")[:150] or "article"


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
        description="Rank score: hybrid averages the vector and keyword scores, each scaled to"
        " 0..1 (nudged by staff feedback); vector is the cosine similarity; keyword is BM25."
    )
    vector_score: float | None = Field(description="Cosine similarity of the best passage.")
    keyword_score: float | None = Field(description="BM25 score of the best passage.")
    matched: list[str] = Field(description="Query words found in the article.")
    section: str = Field(description="Section of the article the passage comes from.")
    passage: str = Field(description="The passage that answers best: quote and cite it.")


class SearchResult(BaseModel):
    query: str
    mode: SearchMode
    words: list[str] = Field(description="The words searched for (stop words dropped).")
    hits: list[SearchHit]


@tool(agent="knowledge", path="/knowledge/search")
def search_articles(
    ctx: ToolContext,
    query: Annotated[
        str, Field(min_length=2, max_length=300, description="Question or keywords, any case.")
    ],
    category: Annotated[str | None, Field(max_length=40, description="Only this category.")] = None,
    limit: Annotated[int, Field(ge=1, le=20, description="How many articles to return.")] = 5,
    mode: Annotated[
        SearchMode,
        Field(
            description="hybrid (default): meaning and words together; vector: meaning only"
            " (paraphrases); keyword: the exact words (codes, names)."
        ),
    ] = "hybrid",
) -> SearchResult:
    """Find the published help articles that answer a question, best first, each with the
    passage that answers it. Searches by meaning and by words, so a question in your own
    words works. Use it before answering how-to or policy questions, and cite the articles
    (id and title) you use."""
    words = query_words(query)
    if not any(re.search(r"[a-z0-9]", w) for w in words):
        raise InvalidInput("the query has no words to search for", field="query")
    try:
        passages = search(ctx.session, query, k=limit, mode=mode, category=category)
    except VectorStoreUnavailable as error:
        raise ProviderError(
            f"the vector store cannot be reached ({error}); try again shortly", field=None
        ) from None
    articles = {
        a.id: a
        for a in ctx.session.exec(
            select(Article).where(col(Article.id).in_([p.article_id for p in passages]))
        )
    }
    hits = [
        SearchHit(
            article=_summary(articles[p.article_id]),
            score=round(p.score, 4),
            vector_score=p.vector_score,
            keyword_score=p.keyword_score,
            matched=p.matched,
            section=p.section,
            passage=p.text,
        )
        for p in passages
        if p.article_id in articles and articles[p.article_id].status == ArticleStatus.PUBLISHED
    ]
    return SearchResult(query=query, mode=mode, words=words, hits=hits)


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
