"""Browser sessions: a random id in a Secure, HttpOnly, SameSite=Strict cookie, the principal
and a CSRF token kept on the server (in memory: a restart logs everyone out, which is safe)."""

from __future__ import annotations

import hmac
import secrets
import threading
import time

import attrs

from mma_web.tokens import Principal

SESSION_COOKIE = "mma_session"
SESSION_SECONDS = 8 * 3600


@attrs.frozen
class Session:
    principal: Principal
    csrf: str
    expires: float


class Sessions:
    def __init__(self, *, secure: bool = True, seconds: int = SESSION_SECONDS) -> None:
        self.secure = secure
        self.seconds = seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, principal: Principal) -> str:
        session_id = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32), time.time() + self.seconds)
        with self._lock:
            now = time.time()
            for key in [k for k, s in self._sessions.items() if s.expires < now]:
                del self._sessions[key]
            self._sessions[session_id] = session
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None or session.expires < time.time():
            return None
        return session

    def principal(self, session_id: str | None) -> Principal | None:
        session = self.get(session_id)
        return None if session is None else session.principal

    def end(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def csrf_ok(self, session_id: str | None, token: str | None) -> bool:
        session = self.get(session_id)
        return (
            session is not None
            and token is not None
            and hmac.compare_digest(session.csrf.encode(), token.encode())
        )
