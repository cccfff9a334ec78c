"""Chat threads: who owns a conversation (its messages live in the graph's checkpointer)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field

__all__ = ["ChatThread"]


class ChatThread(SQLModel, table=True):
    __tablename__ = "chat_threads"
    __table_args__ = (sa.Index("ix_chat_threads_user_id_updated_at", "user_id", "updated_at"),)

    id: str = Field(primary_key=True, max_length=36, description="The graph's thread id.")
    user_id: int = Field(foreign_key="staff_users.id")
    title: str = Field(max_length=120, description="The first request, shortened.")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
