"""What happens in Comptoir, told to the outside and acted upon inside.

Every writing tool records a `domain_events` row in its own transaction (the outbox). From
there:

- `events.relay` publishes the outbox to Kafka, topic `comptoir.<domain>`, keyed by entity
  (at least once, in order per entity, each message carrying its event_id for consumers to
  de-duplicate);
- `events.tail` shows events as they happen, from Kafka or straight from the outbox;
- `events.automations` react to events by calling tools as a system actor, fed from the
  outbox so they work with no broker at all (`events.worker` runs them in the server).
"""
