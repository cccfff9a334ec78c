"""Requests per API key: over the limit, 429 with Retry-After.

Counted in a fixed window per key: one counter per key and window, in this process's memory
(MemoryWindows) or in Redis through the `limits` library (the engine behind slowapi), where
every worker and server shares one budget. A request counts once it is answered with anything
but 401, so a wrong or unknown key never spends a budget, and keeps getting its 401. The first
request over the limit is refused before any work is done; requests already running when the
budget runs out still finish (at most one per connection more than the limit)."""

import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from core.logging import get_logger
from core.security import hash_api_key
from core.settings import Settings

log = get_logger("comptoir.ratelimit")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
LIMITED_PREFIX = "/api/"  # /health, the chat page, /docs and /openapi.json are not counted
UNAUTHENTICATED = 401


def storage_for(url: str) -> "Storage | MemoryWindows":
    if url.startswith("memory://"):
        return MemoryWindows()
    # redis-py's asyncio client (installed with limits[redis]) rather than coredis.
    return RedisStorage(
        f"async+{url}", implementation="redispy", wrap_exceptions=True, key_prefix="comptoir"
    )


class MemoryWindows:
    """Fixed windows counted in this process's memory, as the `limits` library's memory
    storage counts them (a key's window opens with its first counted request and lasts the
    rate's period), without what that storage costs each request: an asyncio task to expire
    counters and a lock per key (its synchronous twin starts a timer thread instead). Only
    the event loop's thread counts, so a plain dict does; windows that ended are dropped
    once a period."""

    def __init__(self) -> None:
        self.windows: dict[str, tuple[float, int]] = {}  # key -> (end of window, epoch s; count)
        self.next_sweep = 0.0

    def window(self, key: str, now: float) -> tuple[float, int]:
        """When the key's window ends and how many requests it has counted; (now, 0) if none
        is open."""
        entry = self.windows.get(key)
        return entry if entry is not None and entry[0] > now else (now, 0)

    def hit(self, key: str, period: float, now: float) -> None:
        entry = self.windows.get(key)
        if entry is not None and entry[0] > now:
            self.windows[key] = (entry[0], entry[1] + 1)
            return
        if now >= self.next_sweep:
            self.windows = {k: e for k, e in self.windows.items() if e[0] > now}
            self.next_sweep = now + period
        self.windows[key] = (now + period, 1)


@dataclass
class KeyRateLimiter:
    """The request budget of each API key, identified by the key's SHA-256 (as stored)."""

    rate: RateLimitItem
    storage: "Storage | MemoryWindows"
    limiter: FixedWindowRateLimiter | None = field(default=None, init=False)
    storage_down: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.storage, MemoryWindows):
            self.limiter = FixedWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRateLimiter | None":
        if settings.rate_limit == "off":
            return None
        return cls(parse(settings.rate_limit), storage_for(settings.rate_limit_storage))

    async def remaining(self, key: str) -> tuple[int, float] | None:
        """Requests left to the key in this window and when the window ends (epoch seconds);
        None when the storage does not answer: requests then go through uncounted, as an
        unreachable Redis must not take the whole API down with it."""
        if self.limiter is None:
            assert isinstance(self.storage, MemoryWindows)
            reset_time, count = self.storage.window(key, time.time())
            return max(0, self.rate.amount - count), reset_time
        try:
            stats = await self.limiter.get_window_stats(self.rate, key)
        except StorageError as error:
            self._storage_failed(error)
            return None
        self._storage_answered()
        return stats.remaining, stats.reset_time

    async def spend(self, key: str) -> None:
        if self.limiter is None:
            assert isinstance(self.storage, MemoryWindows)
            self.storage.hit(key, self.rate.get_expiry(), time.time())
            return
        try:
            await self.limiter.hit(self.rate, key)
        except StorageError as error:
            self._storage_failed(error)

    def _storage_failed(self, error: StorageError) -> None:
        if not self.storage_down:  # once per outage, not once per request
            log.warning(
                "rate limit storage unavailable; requests are not counted",
                error=type(error.storage_error).__name__,
            )
        self.storage_down = True

    def _storage_answered(self) -> None:
        if self.storage_down:
            log.info("rate limit storage available again")
        self.storage_down = False

    def headers(self, remaining: int, reset_time: float) -> list[tuple[bytes, bytes]]:
        """RateLimit-* (seconds until the window ends, as in the IETF draft) and the older
        X-RateLimit-* (the end as epoch seconds, as GitHub sends it)."""
        now = time.time()
        reset_in = math.ceil(reset_time - now) if reset_time > now else self.rate.get_expiry()
        limit, left = str(self.rate.amount).encode(), str(max(remaining, 0)).encode()
        return [
            (b"ratelimit-limit", limit),
            (b"ratelimit-remaining", left),
            (b"ratelimit-reset", str(reset_in).encode()),
            (b"x-ratelimit-limit", limit),
            (b"x-ratelimit-remaining", left),
            (b"x-ratelimit-reset", str(math.ceil(now) + reset_in).encode()),
        ]

    def refusal(self, reset_time: float) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The 429's headers and JSON error body."""
        retry_after = max(1, math.ceil(reset_time - time.time()))
        message = (
            f"too many requests for this API key: {self.rate.amount} per "
            f"{describe_window(self.rate)}; retry in {retry_after} s"
        )
        body = json.dumps(
            {"error": {"code": "rate_limited", "message": message, "field": None}}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
            *self.headers(0, reset_time),
        ]
        return headers, body


def describe_window(rate: RateLimitItem) -> str:
    unit = rate.GRANULARITY.name
    return unit if rate.multiples == 1 else f"{rate.multiples} {unit}s"


def bearer_key(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            return token.strip() or None
    return None


class RateLimitByKey:
    """ASGI middleware: counts each API request against its bearer key's budget. The limiter
    is the app's `state.rate_limiter`, made at startup (None when limits are off)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: KeyRateLimiter | None = (
            getattr(scope["app"].state, "rate_limiter", None)
            if scope["type"] == "http" and scope["path"].startswith(LIMITED_PREFIX)
            else None
        )
        token = bearer_key(scope) if limiter is not None else None
        if limiter is None or token is None:  # no key: the route answers 401 on its own
            await self.app(scope, receive, send)
            return
        key = hash_api_key(token)
        window = await limiter.remaining(key)
        if window is None:
            await self.app(scope, receive, send)
            return
        remaining, reset_time = window
        if remaining <= 0:
            headers, body = limiter.refusal(reset_time)
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] != UNAUTHENTICATED:
                await limiter.spend(key)
                message["headers"] = [
                    *message.get("headers", []),
                    *limiter.headers(remaining - 1, reset_time),
                ]
            await send(message)

        await self.app(scope, receive, send_counted)
