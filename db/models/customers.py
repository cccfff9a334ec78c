"""Customers, their addresses, loyalty ledger and interactions with staff."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.text import fold
from db.base import created_at_field, enum_field, non_negative, text_field


class LoyaltyTier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (*non_negative("loyalty_points"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    first_name: str = Field(max_length=80)
    last_name: str = Field(max_length=80, index=True)
    phone: str | None = Field(default=None, max_length=32)
    company: str | None = Field(default=None, max_length=120)
    locale: str = Field(default="fr-FR", max_length=10)
    marketing_opt_in: bool = False
    loyalty_points: int = 0
    loyalty_tier: LoyaltyTier = enum_field(LoyaltyTier, default=LoyaltyTier.BRONZE)
    notes: str | None = text_field()
    created_at: datetime = created_at_field()
    # What list_customers matches a search against: the names both ways round and the e-mail,
    # lowercased with accents removed, so that "sebastien" finds Sébastien. Kept in step by
    # _keep_search_text; the demo writer, which inserts rows without the ORM, fills it itself.
    search_text: str = text_field(nullable=False, default="")


def customer_search_text(first_name: str, last_name: str, email: str) -> str:
    return fold(f"{first_name} {last_name}\n{last_name} {first_name}\n{email}")


@sa.event.listens_for(Customer, "before_insert")
@sa.event.listens_for(Customer, "before_update")
def _keep_search_text(_mapper: Any, _connection: Any, customer: Customer) -> None:
    customer.search_text = customer_search_text(
        customer.first_name, customer.last_name, customer.email
    )


class AddressKind(StrEnum):
    BILLING = "billing"
    SHIPPING = "shipping"


class Address(SQLModel, table=True):
    __tablename__ = "addresses"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    kind: AddressKind = enum_field(AddressKind)
    full_name: str = Field(max_length=160)
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    postcode: str = Field(max_length=12)
    city: str = Field(max_length=80)
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2")
    is_default: bool = False
    created_at: datetime = created_at_field()


class LoyaltyEntryKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    REVOKE = "revoke"
    ADJUST = "adjust"


class LoyaltyTransaction(SQLModel, table=True):
    __tablename__ = "loyalty_transactions"
    __table_args__ = (sa.CheckConstraint("points <> 0", name="points_non_zero"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    kind: LoyaltyEntryKind = enum_field(LoyaltyEntryKind)
    points: int = Field(description="Signed: earned points are positive, redeemed negative.")
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    note: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()


class InteractionChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    MARKETPLACE = "marketplace"


class InteractionKind(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"
    FOLLOW_UP = "follow_up"


class Interaction(SQLModel, table=True):
    __tablename__ = "interactions"
    __table_args__ = (
        sa.Index("ix_interactions_customer_id_created_at", "customer_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    channel: InteractionChannel = enum_field(InteractionChannel)
    kind: InteractionKind = enum_field(InteractionKind)
    subject: str = Field(max_length=200)
    body: str = text_field(nullable=False, default="")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    staff_user_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = created_at_field()
