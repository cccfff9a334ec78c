"""Help articles and what staff said about their helpfulness."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from db.base import (
    created_at_field,
    enum_field,
    json_field,
    non_negative,
    text_field,
    timestamp_field,
)


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Article(SQLModel, table=True):
    __tablename__ = "articles"
    __table_args__ = (*non_negative("helpful_count", "not_helpful_count"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=160, unique=True)
    title: str = Field(max_length=200)
    category: str = Field(max_length=40, index=True)
    tags: list[Any] = json_field(default_factory=list)
    body: str = text_field(nullable=False, default="")
    status: ArticleStatus = enum_field(ArticleStatus, default=ArticleStatus.PUBLISHED)
    author_id: int | None = Field(default=None, foreign_key="staff_users.id")
    helpful_count: int = 0
    not_helpful_count: int = 0
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class ArticleFeedback(SQLModel, table=True):
    __tablename__ = "article_feedback"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True)
    helpful: bool
    comment: str | None = Field(default=None, max_length=500)
    query: str | None = Field(
        default=None, max_length=300, description="The search that led to the article."
    )
    user_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = created_at_field()
