"""Buyer messages: fetched from the marketplaces, answered from Comptoir."""

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from db.base import as_utc, utc_now
from db.models import (
    ConnectionMode,
    ConnectionStatus,
    MarketplaceConnection,
    MarketplaceMessage,
    MarketplaceOrder,
    MessageDirection,
)
from tools.base import Conflict, InvalidInput, NotFound, ProviderError, ToolContext, tool
from tools.common import Cursor, Limit, Page, paginate
from tools.common import setting as system_setting
from tools.marketplace_common import (
    DOMAIN,
    label,
    load_connection,
    usable_connector,
)

DEFAULT_REPLY_SLA_HOURS = 24


class MessageOut(BaseModel):
    id: int
    connection_id: int
    marketplace_order_id: int | None
    external_order_id: str | None
    order_id: int | None = Field(description="The Comptoir order, when the order was synced.")
    direction: MessageDirection
    author: str
    subject: str
    body: str
    is_read: bool
    sent_at: datetime
    reply_due_at: datetime | None = Field(
        description="Buyer messages: when the reply is due (marketplace.reply_sla_hours)."
    )
    overdue: bool


def _messages_out(session: Session, rows: list[MarketplaceMessage]) -> list[MessageOut]:
    sla = timedelta(
        hours=float(system_setting(session, "marketplace.reply_sla_hours", DEFAULT_REPLY_SLA_HOURS))
    )
    order_ids = {row.marketplace_order_id for row in rows if row.marketplace_order_id}
    orders = {
        o.id: o
        for o in session.exec(
            select(MarketplaceOrder).where(MarketplaceOrder.id.in_(order_ids))  # type: ignore[union-attr]
        ).all()
    }
    now, out = utc_now(), []
    for row in rows:
        order = orders.get(row.marketplace_order_id)
        due = as_utc(row.sent_at) + sla if row.direction == MessageDirection.INBOUND else None
        out.append(
            MessageOut(
                id=row.id or 0,
                connection_id=row.connection_id,
                marketplace_order_id=row.marketplace_order_id,
                external_order_id=order.external_order_id if order else None,
                order_id=order.order_id if order else None,
                direction=row.direction,
                author=row.author,
                subject=row.subject,
                body=row.body,
                is_read=row.is_read,
                sent_at=as_utc(row.sent_at),
                reply_due_at=due,
                overdue=bool(due and not row.is_read and due < now),
            )
        )
    return out


class InboxFetch(BaseModel):
    connection_id: int
    new_messages: int
    error: str | None = Field(description="Why fetching failed (e.g. rate limited), if it did.")


class UnreadMessages(Page[MessageOut]):
    fetched: list[InboxFetch] = Field(description="What was fetched from each marketplace.")


def _fetch(ctx: ToolContext, connection: MarketplaceConnection) -> InboxFetch:
    """Store the buyer messages the marketplace has that Comptoir has not."""
    settings = dict(connection.settings or {})
    cursor = settings.get("messages_synced_at")
    try:
        connector = usable_connector(ctx.session, connection, "fetch messages")
        remote = connector.fetch_messages(datetime.fromisoformat(cursor) if cursor else None)
    except (ProviderError, Conflict) as error:
        return InboxFetch(connection_id=connection.id or 0, new_messages=0, error=error.message)
    known = set(
        ctx.session.exec(
            select(MarketplaceMessage.external_id).where(
                MarketplaceMessage.connection_id == connection.id,
                MarketplaceMessage.external_id.in_([m.external_id for m in remote]),  # type: ignore[attr-defined]
            )
        ).all()
    )
    new = [m for m in remote if m.external_id not in known]
    if not new:
        return InboxFetch(connection_id=connection.id or 0, new_messages=0, error=None)
    orders = dict(
        ctx.session.exec(
            select(MarketplaceOrder.external_order_id, MarketplaceOrder.id).where(
                MarketplaceOrder.connection_id == connection.id,
                MarketplaceOrder.external_order_id.in_(  # type: ignore[attr-defined]
                    [m.external_order_id for m in new if m.external_order_id]
                ),
            )
        ).all()
    )
    for message in new:
        ctx.session.add(
            MarketplaceMessage(
                connection_id=connection.id or 0,
                external_id=message.external_id[:64],
                marketplace_order_id=orders.get(message.external_order_id or ""),
                direction=MessageDirection.INBOUND,
                author=message.author[:120],
                subject=message.subject[:200],
                body=message.body,
                is_read=False,
                sent_at=message.sent_at,
            )
        )
    settings["messages_synced_at"] = max(m.sent_at for m in new).isoformat()
    connection.settings = settings
    ctx.session.add(connection)
    ctx.record(
        action="fetch_messages",
        entity_type="marketplace_connection",
        entity_id=connection.id,
        event="marketplace_messages_received",
        domain=DOMAIN,
        payload={"connection_id": connection.id, "external_ids": [m.external_id for m in new]},
    )
    return InboxFetch(connection_id=connection.id or 0, new_messages=len(new), error=None)


@tool(agent="marketplace", path="/marketplace/messages/unread", method="GET", writes=True)
def list_unread_messages(
    ctx: ToolContext,
    connection_id: Annotated[
        int | None, Field(ge=1, description="Only this connection; leave out for all.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UnreadMessages:
    """The marketplace buyer messages waiting for us, oldest first, each with the time its
    reply is due. First fetches new messages from the marketplace(s) and stores them (on
    the first page only); a marketplace that fails (rate limit...) is reported in `fetched`
    and the stored messages are still listed."""
    fetched = []
    if connection_id:
        connections = [load_connection(ctx.session, connection_id, lock=True)]
    else:
        connections = list(
            ctx.session.exec(
                select(MarketplaceConnection)
                .where(
                    MarketplaceConnection.status != ConnectionStatus.PAUSED,
                    MarketplaceConnection.mode == ConnectionMode.SANDBOX,
                )
                .order_by(MarketplaceConnection.id)  # type: ignore[arg-type]
                .with_for_update()
            ).all()
        )
    if cursor is None:
        fetched = [_fetch(ctx, connection) for connection in connections]
    ctx.session.flush()
    statement = select(MarketplaceMessage).where(
        MarketplaceMessage.direction == MessageDirection.INBOUND,
        MarketplaceMessage.is_read.is_(False),  # type: ignore[attr-defined]
    )
    if connection_id:
        statement = statement.where(MarketplaceMessage.connection_id == connection_id)
    rows, next_cursor = paginate(
        ctx.session, statement, MarketplaceMessage.id, limit, cursor, descending=False
    )
    return UnreadMessages(
        items=_messages_out(ctx.session, rows), next_cursor=next_cursor, fetched=fetched
    )


class SentMessageOut(BaseModel):
    message: MessageOut
    marked_read: int = Field(description="Buyer messages of the order marked read by the reply.")
    sandbox: bool


@tool(
    agent="marketplace",
    path="/marketplace/orders/{marketplace_order_id}/messages",
    writes=True,
)
def send_message(
    ctx: ToolContext,
    marketplace_order_id: Annotated[
        int, Field(ge=1, description="Id of the marketplace order (list_marketplace_orders).")
    ],
    body: Annotated[
        str, Field(min_length=2, max_length=10_000, description="The text sent to the buyer.")
    ],
    subject: Annotated[
        str | None,
        Field(min_length=1, max_length=200, description="Subject; default: Re: their last one."),
    ] = None,
) -> SentMessageOut:
    """Send a message to the buyer of a marketplace order through the marketplace's
    messaging, and mark that buyer's messages on the order as read. The marketplace may
    refuse it (too long; e-mail addresses or links where it forbids them)."""
    row = ctx.session.get(MarketplaceOrder, marketplace_order_id)
    if row is None:
        raise NotFound(
            f"marketplace order {marketplace_order_id} does not exist",
            field="marketplace_order_id",
        )
    if not body.strip():
        raise InvalidInput("the message is empty", field="body")
    connection = load_connection(ctx.session, row.connection_id)
    connector = usable_connector(ctx.session, connection, "message buyers")
    inbound = ctx.session.exec(
        select(MarketplaceMessage)
        .where(
            MarketplaceMessage.marketplace_order_id == row.id,
            MarketplaceMessage.direction == MessageDirection.INBOUND,
        )
        .order_by(MarketplaceMessage.id)  # type: ignore[arg-type]
        .with_for_update()
    ).all()
    if subject is None:
        last = inbound[-1].subject if inbound else f"Your order {row.external_order_id}"
        subject = (last if last.startswith("Re: ") else f"Re: {last}")[:200]
    sent = connector.send_message(row.external_order_id, subject, body)
    message = MarketplaceMessage(
        connection_id=connection.id or 0,
        external_id=sent.external_id[:64],
        marketplace_order_id=row.id,
        direction=MessageDirection.OUTBOUND,
        author=ctx.actor.email[:120],
        subject=subject,
        body=body,
        is_read=True,
        sent_at=sent.sent_at,
    )
    ctx.session.add(message)
    unread = [m for m in inbound if not m.is_read]
    for m in unread:
        m.is_read = True
        ctx.session.add(m)
    ctx.session.flush()
    ctx.record(
        action="send_message",
        entity_type="marketplace_message",
        entity_id=message.id,
        event="marketplace_message_sent",
        domain=DOMAIN,
        payload={
            "connection_id": connection.id,
            "marketplace_order_id": row.id,
            "external_order_id": row.external_order_id,
            "external_id": sent.external_id,
            "subject": subject,
            "marked_read": [m.id for m in unread],
        },
    )
    return SentMessageOut(
        message=_messages_out(ctx.session, [message])[0],
        marked_read=len(unread),
        sandbox=sent.sandbox,
    )


class MarkedRead(BaseModel):
    marked: list[int] = Field(description="Messages now read that were unread.")
    already_read: list[int]
    summary: str


@tool(agent="marketplace", path="/marketplace/messages/read", writes=True)
def mark_messages_read(
    ctx: ToolContext,
    message_ids: Annotated[
        list[int], Field(min_length=1, max_length=200, description="Ids of the messages.")
    ],
) -> MarkedRead:
    """Mark buyer messages as read (handled without a reply, e.g. a thank-you)."""
    wanted = sorted(set(message_ids))
    rows = ctx.session.exec(
        select(MarketplaceMessage)
        .where(MarketplaceMessage.id.in_(wanted))  # type: ignore[union-attr]
        .with_for_update()
    ).all()
    missing = sorted(set(wanted) - {row.id for row in rows})
    if missing:
        raise NotFound(
            f"no marketplace message with id {', '.join(map(str, missing))}", field="message_ids"
        )
    marked = [row for row in rows if not row.is_read]
    for row in marked:
        row.is_read = True
        ctx.session.add(row)
        ctx.record(
            action="mark_messages_read",
            entity_type="marketplace_message",
            entity_id=row.id,
            event="marketplace_message_read",
            domain=DOMAIN,
            before={"is_read": False},
            after={"is_read": True},
        )
    connections = {row.connection_id for row in marked}
    names = ", ".join(label(load_connection(ctx.session, c)) for c in sorted(connections))
    return MarkedRead(
        marked=[row.id or 0 for row in marked],
        already_read=[row.id or 0 for row in rows if row not in marked],
        summary=f"{len(marked)} messages marked read" + (f" on {names}" if names else ""),
    )
