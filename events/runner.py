"""Running the automations over the outbox: a durable cursor and a record of every event
handled, per automation.

- Each automation reads the outbox after its cursor (automation_cursors), only its event
  types, and writes one automation_runs row per event it handled, in the same transaction
  as its cursor move. The unique (automation, event_id) pair means a duplicate event (a
  cursor moved back, a second runner, a re-delivery) never fires twice.
- The tools an automation calls commit in their own transactions, before that row: a crash
  between the two replays the event on restart, which is harmless because automations
  reconcile (they act only on what is still missing).
- Switched off (automations.enabled in system settings), an automation **skips**: the
  events that pass while it is off are recorded with outcome "off" and never replayed, so
  switching it back on does not unleash a backlog of stale reactions (surveys for old
  deliveries, holds on orders already looked at).
- A tool refusing (Conflict, NotFound...) is an outcome ("skipped", with the reason). An
  unexpected error leaves the cursor before the event for the next pass; after
  MAX_FAILURES in a row the event is recorded "failed" and the automation moves on.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.logging import get_logger
from db.base import utc_now
from db.engine import serialized_writer
from db.models import AuditChannel, AutomationCursor, AutomationOutcome, AutomationRun, DomainEvent
from events.automations import AUTOMATIONS, Automation, Reaction
from events.outbox import read_after
from tools import load_tools
from tools.base import Actor, run_tool
from tools.common import setting

log = get_logger("comptoir.events.automations")

SWITCHES = "automations.enabled"
LOCK_NAME = "automations"
MAX_FAILURES = 3


def is_enabled(session: Session, name: str) -> bool:
    switches = setting(session, SWITCHES)
    return not isinstance(switches, dict) or switches.get(name, True) is not False


@dataclass
class PassSummary:
    outcomes: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    cursor: int = 0

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


class AutomationRunner:
    def __init__(
        self,
        engine: Engine,
        automations: tuple[Automation, ...] = AUTOMATIONS,
        # Events each automation reads per pass. A pass costs three reads and a cursor move
        # (a write transaction) whatever it reads: at 700 writes a second, batches of 200
        # made the automations a twentieth of the server's CPU; 1,000 cut that to under half.
        batch_size: int = 1000,
    ) -> None:
        load_tools()
        self.engine = engine
        self.automations = automations
        self.batch_size = batch_size
        self.failures: Counter[tuple[str, str]] = Counter()

    def run_once(self) -> dict[str, PassSummary]:
        """Let every automation catch up with the outbox."""
        return {automation.name: self.catch_up(automation) for automation in self.automations}

    def catch_up(self, automation: Automation) -> PassSummary:
        summary = PassSummary()
        while True:
            with Session(self.engine) as session:
                cursor = session.get(AutomationCursor, automation.name)
                start = cursor.last_event_id if cursor else 0
                events, safe = read_after(session, start, self.batch_size, automation.event_types)
                enabled = is_enabled(session, automation.name)
            position = start
            for event in events:
                outcome = self.handle(automation, event, enabled)
                if outcome is None:  # failed this time: the cursor stays before it
                    self._move_cursor(automation.name, position)
                    summary.cursor = position
                    return summary
                if outcome == "duplicate":
                    summary.duplicates += 1
                elif outcome != "not applicable":
                    summary.outcomes[outcome] += 1
                position = event.id or position
            summary.cursor = max(safe, position)
            if summary.cursor == start:
                return summary
            self._move_cursor(automation.name, summary.cursor)
            if summary.cursor - start < self.batch_size:
                # Read up to the newest event (or a gap still settling): what has committed
                # since waits for the next tick, rather than chasing a stream of writes with a
                # cursor move every few events (one per ten requests under load).
                return summary

    def handle(self, automation: Automation, event: DomainEvent, enabled: bool) -> str | None:
        """Handle one event: its outcome, "duplicate" if it was handled before, None if it
        failed and should be tried again."""
        if self._seen(automation.name, event.event_id):
            return "duplicate"
        if not automation.applies(event):
            return "not applicable"
        if not enabled:
            outcome, detail = AutomationOutcome.OFF, "switched off in automations.enabled"
        else:
            try:
                reaction = self._react(automation, event)
            except Exception as error:
                key = (automation.name, event.event_id)
                self.failures[key] += 1
                log.warning(
                    "automation failed",
                    automation=automation.name,
                    event_id=event.event_id,
                    attempt=self.failures[key],
                    error=repr(error),
                )
                if self.failures[key] < MAX_FAILURES:
                    return None
                del self.failures[key]
                outcome, detail = AutomationOutcome.FAILED, repr(error)[:2000]
            else:
                outcome = AutomationOutcome.DONE if reaction.done else AutomationOutcome.SKIPPED
                detail = reaction.detail
        self._record(automation.name, event, outcome, detail)
        return outcome.value

    def _react(self, automation: Automation, event: DomainEvent) -> Reaction:
        actor = Actor.system(automation.name, AuditChannel.AUTOMATION)

        def call(name: str, args: dict[str, Any]) -> Any:
            return run_tool(self.engine, actor, name, args)

        with Session(self.engine) as session:  # reads only; tools write in their own
            return automation.react(session, call, event)

    def _seen(self, name: str, event_id: str) -> bool:
        with Session(self.engine) as session:
            return (
                session.exec(
                    select(AutomationRun.id).where(
                        AutomationRun.automation == name, AutomationRun.event_id == event_id
                    )
                ).first()
                is not None
            )

    def _record(
        self, name: str, event: DomainEvent, outcome: AutomationOutcome, detail: str
    ) -> None:
        with serialized_writer(self.engine), Session(self.engine) as session:
            session.connection(execution_options={"sqlite_immediate": True})
            try:
                with session.begin_nested():
                    session.add(
                        AutomationRun(
                            automation=name,
                            event_id=event.event_id,
                            event_type=event.type,
                            outcome=outcome,
                            detail=detail,
                            processed_at=utc_now(),
                        )
                    )
            except sa.exc.IntegrityError:
                log.info("event already handled by another runner", automation=name)
            self._advance(session, name, event.id or 0)
            session.commit()
        log.info(
            "automation",
            automation=name,
            event_type=event.type,
            outcome=outcome.value,
            detail=detail,
        )

    def _move_cursor(self, name: str, to: int) -> None:
        with serialized_writer(self.engine), Session(self.engine) as session:
            session.connection(execution_options={"sqlite_immediate": True})
            self._advance(session, name, to)
            session.commit()

    @staticmethod
    def _advance(session: Session, name: str, to: int) -> None:
        cursor = session.exec(
            select(AutomationCursor).where(AutomationCursor.automation == name).with_for_update()
        ).first()
        if cursor is None:
            cursor = AutomationCursor(automation=name, last_event_id=0)
        if to > cursor.last_event_id:
            cursor.last_event_id = to
            cursor.updated_at = utc_now()
            session.add(cursor)
