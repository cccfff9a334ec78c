"""Tools of the customers agent: profiles and addresses.

The agent's other tools register from tools/customers_erasure.py (GDPR erasure),
tools/customers_loyalty.py (loyalty account, interactions) and tools/customers_360.py, all
imported at the end of this module. earn_points_for_order and revoke_points_for_refund, which
payments and returns call, live in tools/customers_core.py and are exported from here.
"""

from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from core.text import fold
from db.models import Address, AddressKind, Customer, LoyaltyTier
from tools.base import Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, contains, get_or_404, paginate
from tools.customers_core import (
    ERASED_DOMAIN,
    CustomerId,
    CustomerOut,
    Email,
    Locale,
    Moment,
    Name,
    Phone,
    customer_out,
    earn_points_for_order,
    live_customer,
    revoke_points_for_refund,
)

__all__ = ["earn_points_for_order", "revoke_points_for_refund"]


def _event_view(customer: Customer) -> dict[str, Any]:
    """What events carry about a customer: no personal data, since events leave the system."""
    return {
        "customer_id": customer.id,
        "locale": customer.locale,
        "marketing_opt_in": customer.marketing_opt_in,
        "loyalty_tier": str(customer.loyalty_tier),
    }


def _email_taken(session: Session, email: str, but: int | None = None) -> bool:
    statement = select(Customer.id).where(func.lower(Customer.email) == email.lower())
    if but is not None:
        statement = statement.where(Customer.id != but)
    return session.exec(statement.limit(1)).first() is not None


def _flush_unique_email(ctx: ToolContext, email: str) -> None:
    try:
        ctx.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(f"a customer with e-mail {email} already exists", field="email") from None


# -- profiles ------------------------------------------------------------------------------


@tool(agent="customers", path="/customers", writes=True)
def create_customer(
    ctx: ToolContext,
    email: Email,
    first_name: Annotated[Name, Field(description="First name.")],
    last_name: Annotated[Name, Field(description="Last name.")],
    phone: Annotated[Phone | None, Field(description="Phone number, e.g. +33 6 12 34 56 78.")] = (
        None
    ),
    company: Annotated[
        str | None, Field(max_length=120, description="Company, for business customers.")
    ] = None,
    locale: Locale = "fr-FR",
    marketing_opt_in: Annotated[
        bool, Field(description="Whether the customer agreed to marketing e-mails.")
    ] = False,
    notes: Annotated[str | None, Field(max_length=2000, description="Internal notes.")] = None,
) -> CustomerOut:
    """Create a customer account. The e-mail must be valid and not used by another customer
    (compared without case). New customers start in the bronze loyalty tier with 0 points."""
    email = email.strip().lower()
    if email.endswith("@" + ERASED_DOMAIN):
        raise InvalidInput(f"{ERASED_DOMAIN} is reserved for erased accounts", field="email")
    if _email_taken(ctx.session, email):
        raise Conflict(f"a customer with e-mail {email} already exists", field="email")
    customer = Customer(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=phone or None,
        company=company or None,
        locale=locale,
        marketing_opt_in=marketing_opt_in,
        notes=notes or None,
    )
    ctx.session.add(customer)
    _flush_unique_email(ctx, email)
    out = customer_out(customer)
    ctx.record(
        action="create_customer",
        entity_type="customer",
        entity_id=customer.id,
        event="customer_created",
        domain="customers",
        payload=_event_view(customer),
        after=out.model_dump(mode="json"),
    )
    return out


@tool(agent="customers", path="/customers/{customer_id}")
def get_customer(ctx: ToolContext, customer_id: CustomerId) -> CustomerOut:
    """Get a customer's profile: contact details, marketing consent, loyalty balance and tier.
    For orders, returns, payments and fraud history at once, use customer_360."""
    return customer_out(get_or_404(ctx.session, Customer, customer_id))


@tool(agent="customers", path="/customers/{customer_id}", method="PATCH", writes=True)
def update_customer(
    ctx: ToolContext,
    customer_id: CustomerId,
    email: Annotated[Email | None, Field(description="New e-mail (must be unused).")] = None,
    first_name: Annotated[Name | None, Field(description="New first name.")] = None,
    last_name: Annotated[Name | None, Field(description="New last name.")] = None,
    phone: Annotated[Phone | None, Field(description="New phone; '' removes it.")] = None,
    company: Annotated[
        str | None, Field(max_length=120, description="New company; '' removes it.")
    ] = None,
    locale: Annotated[Locale | None, Field(description="New locale, e.g. en-GB.")] = None,
    marketing_opt_in: Annotated[
        bool | None, Field(description="Give or withdraw marketing consent.")
    ] = None,
    notes: Annotated[
        str | None, Field(max_length=2000, description="New internal notes; '' removes them.")
    ] = None,
) -> CustomerOut:
    """Correct a customer's details (GDPR rectification) or change their marketing consent.
    Only the fields given change; an empty string removes phone, company or notes."""
    customer = live_customer(ctx.session, customer_id, lock=True)
    before = customer_out(customer)
    changes: dict[str, Any] = {}
    if email is not None:
        email = email.strip().lower()
        if email.endswith("@" + ERASED_DOMAIN):
            raise InvalidInput(f"{ERASED_DOMAIN} is reserved for erased accounts", field="email")
        if email != customer.email and _email_taken(ctx.session, email, but=customer_id):
            raise Conflict(f"a customer with e-mail {email} already exists", field="email")
        changes["email"] = email
    for key, value in (("first_name", first_name), ("last_name", last_name)):
        if value is not None:
            changes[key] = value.strip()
    for key, value in (("phone", phone), ("company", company), ("notes", notes)):
        if value is not None:
            changes[key] = value.strip() or None
    if locale is not None:
        changes["locale"] = locale
    if marketing_opt_in is not None:
        changes["marketing_opt_in"] = marketing_opt_in
    changes = {k: v for k, v in changes.items() if getattr(customer, k) != v}
    if not changes:
        raise InvalidInput("nothing to change: give at least one field with a new value")
    for key, value in changes.items():
        setattr(customer, key, value)
    ctx.session.add(customer)
    _flush_unique_email(ctx, customer.email)
    out = customer_out(customer)
    ctx.record(
        action="update_customer",
        entity_type="customer",
        entity_id=customer_id,
        event="customer_updated",
        domain="customers",
        payload={**_event_view(customer), "changed": sorted(changes)},
        before={k: getattr(before, k) for k in changes},
        after={k: getattr(out, k) for k in changes},
    )
    return out


class CustomerListed(CustomerOut):
    city: str | None = Field(
        description="Town of the default delivery address: what tells namesakes apart."
    )


@tool(agent="customers", path="/customers")
def list_customers(
    ctx: ToolContext,
    search: Annotated[
        str | None,
        Field(min_length=2, max_length=120, description="Part of a name or an e-mail."),
    ] = None,
    tier: Annotated[LoyaltyTier | None, Field(description="Only this loyalty tier.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CustomerListed]:
    """Find customers by part of their first name, last name, full name or e-mail (case and
    accents ignored), optionally in one loyalty tier; newest customers first, each with the
    town they are delivered to."""
    statement = select(Customer)
    if search:
        statement = statement.where(contains(Customer.search_text, fold(search.strip())))
    if tier is not None:
        statement = statement.where(Customer.loyalty_tier == tier)
    rows, next_cursor = paginate(ctx.session, statement, Customer.id, limit, cursor)
    towns = _delivery_towns(ctx.session, [c.id for c in rows])
    return Page(
        items=[CustomerListed(**customer_out(c).model_dump(), city=towns.get(c.id)) for c in rows],
        next_cursor=next_cursor,
    )


def _delivery_towns(session: Session, customer_ids: list[int | None]) -> dict[int, str]:
    """Each customer's delivery town: of the default shipping address, else the newest."""
    addresses = session.exec(
        select(Address.customer_id, Address.city)
        .where(col(Address.customer_id).in_(customer_ids), Address.kind == AddressKind.SHIPPING)
        .order_by(col(Address.is_default), col(Address.id))
    )
    return dict(addresses.all())  # a customer's last row wins: the default, else the newest


# -- addresses -----------------------------------------------------------------------------


class AddressOut(BaseModel):
    id: int
    customer_id: int
    kind: AddressKind
    full_name: str
    line1: str
    line2: str | None
    postcode: str
    city: str
    country: str
    is_default: bool
    created_at: Moment


@tool(agent="customers", path="/customers/{customer_id}/addresses", writes=True)
def add_address(
    ctx: ToolContext,
    customer_id: CustomerId,
    kind: Annotated[AddressKind, Field(description="shipping or billing.")],
    full_name: Annotated[str, Field(min_length=2, max_length=160, description="Recipient.")],
    line1: Annotated[str, Field(min_length=3, max_length=200, description="Street and number.")],
    postcode: Annotated[str, Field(min_length=2, max_length=12, description="Postcode.")],
    city: Annotated[str, Field(min_length=1, max_length=80, description="City.")],
    country: Annotated[
        str, Field(pattern=r"^[A-Z]{2}$", description="ISO country code, e.g. FR.")
    ] = "FR",
    line2: Annotated[
        str | None, Field(max_length=200, description="Building, floor, apartment.")
    ] = None,
    is_default: Annotated[
        bool, Field(description="Make it the default address of its kind.")
    ] = False,
) -> AddressOut:
    """Add a shipping or billing address to a customer. The first address of a kind becomes
    the default; `is_default` makes a new one the default in place of the previous one.
    French postcodes have five digits."""
    customer = live_customer(ctx.session, customer_id, lock=True)
    postcode = postcode.strip().upper()
    if country == "FR" and not (postcode.isdigit() and len(postcode) == 5):
        raise InvalidInput(f"a French postcode has five digits, not {postcode!r}", field="postcode")
    existing = ctx.session.exec(
        select(Address).where(Address.customer_id == customer_id, Address.kind == kind)
    ).all()
    make_default = is_default or not existing
    if make_default:
        for other in existing:
            if other.is_default:
                other.is_default = False
                ctx.session.add(other)
    address = Address(
        customer_id=customer.id,  # type: ignore[arg-type]
        kind=kind,
        full_name=full_name.strip(),
        line1=line1.strip(),
        line2=(line2 or "").strip() or None,
        postcode=postcode,
        city=city.strip(),
        country=country,
        is_default=make_default,
    )
    ctx.session.add(address)
    ctx.session.flush()
    out = AddressOut.model_validate(address, from_attributes=True)
    ctx.record(
        action="add_address",
        entity_type="address",
        entity_id=address.id,
        event="address_added",
        domain="customers",
        payload={
            "customer_id": customer_id,
            "address_id": address.id,
            "kind": str(kind),
            "country": country,
            "is_default": make_default,
        },
        after=out.model_dump(mode="json"),
    )
    return out


@tool(agent="customers", path="/customers/{customer_id}/addresses")
def list_addresses(
    ctx: ToolContext,
    customer_id: CustomerId,
    kind: Annotated[AddressKind | None, Field(description="Only shipping or billing.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AddressOut]:
    """List a customer's shipping and billing addresses, oldest first, with the default one
    of each kind marked."""
    get_or_404(ctx.session, Customer, customer_id)
    statement = select(Address).where(Address.customer_id == customer_id)
    if kind is not None:
        statement = statement.where(Address.kind == kind)
    rows, next_cursor = paginate(
        ctx.session, statement, Address.id, limit, cursor, descending=False
    )
    return Page(
        items=[AddressOut.model_validate(a, from_attributes=True) for a in rows],
        next_cursor=next_cursor,
    )


# Register the agent's tools that live beside this module.
import tools.customers_360  # noqa: E402
import tools.customers_erasure  # noqa: E402
import tools.customers_loyalty  # noqa: E402, F401
