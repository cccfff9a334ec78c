"""GDPR erasure of a customer: anonymise personal data, keep the accounting records."""

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from db.models import (
    Address,
    AuditEntry,
    Interaction,
    LoyaltyEntryKind,
    LoyaltyTier,
    LoyaltyTransaction,
    Order,
    PaymentMethod,
    ReturnRequest,
    WarrantyClaim,
    WarrantyStatus,
)
from tools.base import MANAGERS, Conflict, ToolContext, tool
from tools.customers_core import (
    ERASED_DOMAIN,
    OPEN_RETURNS,
    UNDELIVERED,
    CustomerId,
    live_customer,
)


class ErasureOut(BaseModel):
    customer_id: int
    addresses_anonymised: int
    payment_methods_cleared: int
    interactions_redacted: int
    loyalty_points_deleted: int
    orders_kept: int = Field(description="Orders kept for accounting, now anonymous.")
    audit_entries_redacted: int


def check_erasable(session: Session, customer_id: int) -> None:
    """Raise Conflict while the customer has an open return, an open warranty claim or an
    order not yet delivered."""
    open_items = []
    for label, statement in (
        (
            "open returns",
            select(func.count())
            .select_from(ReturnRequest)
            .where(ReturnRequest.customer_id == customer_id)
            .where(ReturnRequest.status.in_(OPEN_RETURNS)),  # type: ignore[attr-defined]
        ),
        (
            "open warranty claims",
            select(func.count())
            .select_from(WarrantyClaim)
            .where(WarrantyClaim.customer_id == customer_id)
            .where(
                WarrantyClaim.status.in_([WarrantyStatus.SUBMITTED, WarrantyStatus.APPROVED])  # type: ignore[attr-defined]
            ),
        ),
        (
            "orders not yet delivered",
            select(func.count())
            .select_from(Order)
            .where(Order.customer_id == customer_id)
            .where(Order.status.in_(UNDELIVERED)),  # type: ignore[attr-defined]
        ),
    ):
        count = session.exec(statement).one()
        if count:
            open_items.append(f"{count} {label}")
    if open_items:
        raise Conflict(
            f"customer {customer_id} still has {', '.join(open_items)}; "
            "close them, then erase the account"
        )


def _erasable(ctx: ToolContext, customer_id: int) -> None:
    live_customer(ctx.session, customer_id)
    check_erasable(ctx.session, customer_id)


@tool(
    agent="customers",
    path="/customers/{customer_id}/erase",
    writes=True,
    approval=True,
    roles=MANAGERS,
    precheck=_erasable,
)
def erase_customer(ctx: ToolContext, customer_id: CustomerId) -> ErasureOut:
    """Erase a customer's personal data on a GDPR request: anonymise the profile and the
    addresses, clear saved card details, redact interaction texts, delete the loyalty balance
    and withdraw marketing consent. Orders, invoices and payments are kept for accounting (10
    years) and become anonymous. Refused while the customer has an open return, an open
    warranty claim or an order not yet delivered: close those first. Cannot be undone."""
    session = ctx.session
    customer = live_customer(session, customer_id, lock=True)
    check_erasable(session, customer_id)

    deleted_points = customer.loyalty_points
    if deleted_points:
        session.add(
            LoyaltyTransaction(
                customer_id=customer_id,
                kind=LoyaltyEntryKind.ADJUST,
                points=-deleted_points,
                note="balance deleted on GDPR erasure",
            )
        )
    customer.email = f"erased-{customer_id}@{ERASED_DOMAIN}"
    customer.first_name = "Erased"
    customer.last_name = "Customer"
    customer.phone = None
    customer.company = None
    customer.notes = None
    customer.marketing_opt_in = False
    customer.loyalty_points = 0
    customer.loyalty_tier = LoyaltyTier.BRONZE
    session.add(customer)

    addresses = session.exec(select(Address).where(Address.customer_id == customer_id)).all()
    for address in addresses:
        # Postcode, city and country stay: invoices need the place of supply for VAT.
        address.full_name = "Erased customer"
        address.line1 = "[erased]"
        address.line2 = None
        session.add(address)
    methods = session.exec(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)
    ).all()
    for method in methods:
        method.last4 = method.exp_month = method.exp_year = None
        method.fingerprint = None
        session.add(method)
    interactions = session.exec(
        select(Interaction).where(Interaction.customer_id == customer_id)
    ).all()
    for interaction in interactions:
        interaction.body = "[erased on GDPR request]"
        session.add(interaction)
    orders = session.exec(select(Order).where(Order.customer_id == customer_id)).all()
    for order in orders:
        order.ip_address = None
        session.add(order)

    # Earlier audit entries about this customer and its addresses held their personal data.
    entities = [("customer", str(customer_id))] + [("address", str(a.id)) for a in addresses]
    redacted = {"redacted": "GDPR erasure"}
    audit = session.exec(
        select(AuditEntry).where(
            sa.tuple_(AuditEntry.entity_type, AuditEntry.entity_id).in_(entities)
        )
    ).all()
    for entry in audit:
        entry.before = redacted if entry.before is not None else None
        entry.after = redacted if entry.after is not None else None
        session.add(entry)

    result = ErasureOut(
        customer_id=customer_id,
        addresses_anonymised=len(addresses),
        payment_methods_cleared=len(methods),
        interactions_redacted=len(interactions),
        loyalty_points_deleted=deleted_points,
        orders_kept=len(orders),
        audit_entries_redacted=len(audit),
    )
    session.flush()
    ctx.record(
        action="erase_customer",
        entity_type="customer",
        entity_id=customer_id,
        event="customer_erased",
        domain="customers",
        payload=result.model_dump(),
        before={"erased": False},
        after={"erased": True, **result.model_dump()},
    )
    return result
