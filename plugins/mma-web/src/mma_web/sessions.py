"""Browser sessions, the login throttle and the site's form secret, in the store.

A session is a random id in a Secure, HttpOnly, SameSite=Strict cookie. The store keeps the
SHA-256 digest of that id (reading the table gives no usable cookie), the digest of the token
that logged in, the session's CSRF token and when it ends. Every ``mma serve`` process on the
store honours it, it survives a restart, and it ends at the next request once its token is no
longer in the configuration (the principal is looked up by the token's digest each time).

The throttle counts failed logins per client address and per token prefix in a window; past
the limit, logins from that address or with that prefix get 429 with ``Retry-After`` until the
window ends, on every process. Unknown bearer tokens count against their address in the same
table (:class:`BearerThrottle`), and a refused address is refused for bearer requests too.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable

import attrs

from mma_web.db import Database
from mma_web.tokens import Principal, TokenTable, digest

SESSION_COOKIE = "mma_session"
LOGIN_COOKIE = "mma_login"
SESSION_SECONDS = 8 * 3600
SESSIONS = "mma_web_sessions"
THROTTLE = "mma_web_throttle"
SECRETS = "mma_web_secrets"
LOGIN_FAILURES = 10  # failed logins allowed per address, and per token prefix, in a window
LOGIN_WINDOW = 300  # seconds
PREFIX = 8  # characters of a presented token that make its throttle key
BLOCKED_REFRESH = 1.0  # seconds a process trusts its copy of the addresses refused now


def address_key(address: str) -> str:
    """The throttle key of a client address: shared by logins and bearer tokens, which are
    guesses at the same secrets."""
    return f"address:{address}"[:200]


@attrs.frozen
class Session:
    principal: Principal
    csrf: str
    expires: float


def secret_of(database: Database, name: str = "form") -> bytes:
    """A random secret shared by every process on the store (made once, kept)."""
    database.execute(
        "CREATE TABLE IF NOT EXISTS {t} (name TEXT PRIMARY KEY, value TEXT NOT NULL)", t=SECRETS
    )
    database.execute(
        "INSERT INTO {t} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (name, secrets.token_hex(32)),
        t=SECRETS,
    )
    rows = database.rows("SELECT value FROM {t} WHERE name = ?", (name,), t=SECRETS)
    return bytes.fromhex(str(rows[0]["value"]))


class Sessions:
    """The sessions table; principals come from ``tokens`` on every look-up."""

    def __init__(
        self,
        database: Database,
        tokens: TokenTable,
        *,
        secure: bool = True,
        seconds: int = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = database
        self.tokens = tokens
        self.secure = secure
        self.seconds = seconds
        self.clock = clock
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS {t} (id_digest TEXT PRIMARY KEY, "
            "token_digest TEXT NOT NULL, csrf TEXT NOT NULL, expires_at BIGINT NOT NULL)",
            t=SESSIONS,
        )

    def start(self, token_digest: str, *, replacing: str | None = None) -> str:
        """A new session for the token with this digest; ``replacing`` (the caller's earlier
        session id, if any) ends. Returns the new id, for the cookie."""
        session_id = secrets.token_urlsafe(32)
        now = int(self.clock())
        with self.db.transaction() as cursor:
            cursor.execute(self.db.sql("DELETE FROM {t} WHERE expires_at < ?", t=SESSIONS), (now,))
            if replacing:
                cursor.execute(
                    self.db.sql("DELETE FROM {t} WHERE id_digest = ?", t=SESSIONS),
                    (digest(replacing),),
                )
            cursor.execute(
                self.db.sql(
                    "INSERT INTO {t} (id_digest, token_digest, csrf, expires_at) "
                    "VALUES (?, ?, ?, ?)",
                    t=SESSIONS,
                ),
                (digest(session_id), token_digest, secrets.token_urlsafe(32), now + self.seconds),
            )
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 100:
            return None
        key = digest(session_id)
        rows = self.db.rows(
            "SELECT token_digest, csrf, expires_at FROM {t} WHERE id_digest = ?", (key,), t=SESSIONS
        )
        if not rows:
            return None
        row = rows[0]
        principal = self.tokens.principals.get(str(row["token_digest"]))
        expires = float(row["expires_at"])
        if principal is None or expires < self.clock():
            # Its token was removed from the configuration, or it ran out: it ends now.
            self.db.execute("DELETE FROM {t} WHERE id_digest = ?", (key,), t=SESSIONS)
            return None
        return Session(principal, str(row["csrf"]), expires)

    def principal(self, session_id: str | None) -> Principal | None:
        session = self.get(session_id)
        return None if session is None else session.principal

    def end(self, session_id: str | None) -> None:
        if session_id:
            self.db.execute(
                "DELETE FROM {t} WHERE id_digest = ?", (digest(session_id),), t=SESSIONS
            )

    def csrf_ok(self, session_id: str | None, token: str | None) -> bool:
        session = self.get(session_id)
        return (
            session is not None
            and token is not None
            and hmac.compare_digest(session.csrf.encode(), token.encode())
        )


class Throttle:
    """Failed logins per key (an address, a token prefix) in a fixed window, in the store."""

    def __init__(
        self,
        database: Database,
        secret: bytes,
        *,
        failures: int = LOGIN_FAILURES,
        window: int = LOGIN_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = database
        self.secret = secret
        self.failures = failures
        self.window = window
        self.clock = clock
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, "
            "window_start BIGINT NOT NULL, failures INTEGER NOT NULL)",
            t=THROTTLE,
        )

    def keys(self, address: str, token: str) -> list[str]:
        """The throttle keys of a login: its address, and a keyed hash of the token's prefix
        (the store never holds a piece of a token)."""
        prefix = hmac.new(self.secret, token[:PREFIX].encode(), hashlib.sha256).hexdigest()
        return [address_key(address), f"prefix:{prefix[:32]}"]

    def blocked(self) -> dict[str, float]:
        """Every key refused now, with the time (``clock``) its window ends."""
        now = self.clock()
        rows = self.db.rows(
            "SELECT key, window_start FROM {t} WHERE failures >= ? AND window_start > ?",
            (self.failures, math.floor(now) - self.window),
            t=THROTTLE,
        )
        return {
            str(row["key"]): float(row["window_start"]) + self.window
            for row in rows
            if float(row["window_start"]) + self.window > now
        }

    def retry_after(self, keys: list[str]) -> int | None:
        """Seconds until a login with these keys may be tried again; ``None`` if it may now."""
        now = self.clock()
        wait = 0
        for key in keys:
            rows = self.db.rows(
                "SELECT window_start, failures FROM {t} WHERE key = ?", (key,), t=THROTTLE
            )
            if not rows:
                continue
            ends = float(rows[0]["window_start"]) + self.window
            if int(rows[0]["failures"]) >= self.failures and ends > now:
                wait = max(wait, math.ceil(ends - now))
        return wait or None

    def failed(self, keys: list[str]) -> None:
        now = int(self.clock())
        with self.db.transaction() as cursor:
            for key in keys:
                cursor.execute(
                    self.db.sql(
                        "INSERT INTO {t} (key, window_start, failures) VALUES (?, ?, 1) "
                        "ON CONFLICT (key) DO UPDATE SET "
                        "failures = CASE WHEN {t}.window_start + ? <= ? THEN 1 "
                        "ELSE {t}.failures + 1 END, "
                        "window_start = CASE WHEN {t}.window_start + ? <= ? THEN ? "
                        "ELSE {t}.window_start END",
                        t=THROTTLE,
                    ),
                    (key, now, self.window, now, self.window, now, now),
                )


class BearerThrottle:
    """Failed bearer tokens per client address, in the login throttle's table and under the same
    limits (a token is the same secret whether posted to ``/login`` or sent as a bearer): past
    the limit every bearer request from the address is refused, a valid token too, until the
    window ends, on every process.

    A request with a valid token reads nothing from the store: the addresses refused now are
    kept in memory and read again from the store at most every ``refresh`` seconds (so a block
    made by another process holds here within that time). A failure is counted in the store
    and its answer taken from there at once.
    """

    def __init__(
        self,
        throttle: Throttle,
        *,
        refresh: float = BLOCKED_REFRESH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.throttle = throttle
        self.refresh = refresh
        self.clock = clock  # monotonic, for the refresh; the throttle's own for its windows
        self._until: dict[str, float] = {}
        self._read_at = -math.inf
        self._lock = threading.Lock()

    def stale(self) -> bool:
        return self.clock() - self._read_at >= self.refresh

    def read(self) -> None:
        """Read the refused addresses from the store (in a worker thread: it is a query)."""
        if not self._lock.acquire(blocking=False):
            return  # another thread is reading them
        try:
            if not self.stale():
                return
            self._read_at = self.clock()
            # A store that cannot be read now keeps the copy it has: a request with a valid
            # token must not fail for the throttle (its own route says what the store does).
            with contextlib.suppress(Exception):
                self._until = self.throttle.blocked()
        finally:
            self._lock.release()

    def retry_after(self, address: str) -> int | None:
        """Seconds until bearer requests from ``address`` are heard again; ``None`` if now.
        From memory only (see :meth:`read`)."""
        until = self._until.get(address_key(address))
        if until is None:
            return None
        wait = math.ceil(until - self.throttle.clock())
        return wait if wait > 0 else None

    def failed(self, address: str) -> int | None:
        """Count a failed token from ``address`` (in a worker thread); the wait if that made
        the address refused."""
        key = address_key(address)
        self.throttle.failed([key])
        wait = self.throttle.retry_after([key])
        if wait is not None:
            until = dict(self._until)
            until[key] = self.throttle.clock() + wait
            self._until = until
        return wait
