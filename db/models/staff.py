"""Staff users, their API keys, and the merchant's system configuration."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, json_field, timestamp_field


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SUPPORT = "support"
    VIEWER = "viewer"


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=120)
    role: Role = enum_field(Role, index=True)
    is_active: bool = True
    created_at: datetime = created_at_field()
    last_seen_at: datetime | None = timestamp_field()


class ApiKey(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored, with a prefix to recognise it by."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_users.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    expires_at: datetime | None = timestamp_field()
    last_used_at: datetime | None = timestamp_field()
    revoked_at: datetime | None = timestamp_field()


class ConfigValueType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


class SystemSetting(SQLModel, table=True):
    __tablename__ = "system_settings"

    key: str = Field(primary_key=True, max_length=80)
    value: Any = json_field(default_factory=lambda: None)
    value_type: ConfigValueType = enum_field(ConfigValueType)
    description: str = Field(default="", max_length=300)
    updated_at: datetime = created_at_field()
    updated_by: str = Field(max_length=120)
