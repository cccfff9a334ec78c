"""One relay (and one automation runner) at a time per database: db.locks.DatabaseLock."""

from db.locks import DatabaseLock as RunnerLock

__all__ = ["RunnerLock"]
