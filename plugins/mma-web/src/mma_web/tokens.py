"""Who is asking: bearer tokens, their roles, and the name recorded as ``by``.

Tokens come from ``MMA_WEB_TOKENS`` (``TOKEN:ROLE[:NAME],...``) or from ``[web.tokens]`` in
``mma.toml`` (``NAME = { token = "...", role = "coordinator" }``, or ``sha256 = "..."`` instead
of ``token`` so the file holds no usable secret). Only the SHA-256 digest of a token is kept in
memory; a presented token is hashed and looked up, so its length or content never steers a
comparison.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

import attrs

from mma_core.plugin_api import translator

_ = translator("mma_web")

MIN_TOKEN_LENGTH = 16
MIN_TOKEN_BITS = 128
NEW_TOKEN_BYTES = 32  # 256 bits from ``secrets``
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")


class TokenError(ValueError):
    """The token configuration is malformed; the message never contains a token."""


class Role(StrEnum):
    VIEWER = "viewer"  # reads
    COORDINATOR = "coordinator"  # reads, history and records
    AUDITOR = "auditor"  # reads, history and audit
    MUNICIPALITY = "municipality"  # one municipality's answer link, nothing else


STAFF_ROLES = (Role.VIEWER, Role.COORDINATOR, Role.AUDITOR)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@attrs.frozen
class Principal:
    """An authenticated caller. ``by`` is what events record: the token's name, else the role
    and a short fingerprint of the token's digest (never the token)."""

    role: Role
    name: str | None
    fingerprint: str
    code: str | None = None  # the municipality of a ``municipality`` principal

    @property
    def by(self) -> str:
        if self.name:
            return self.name
        return f"{self.role.value}-{self.fingerprint}"

    @property
    def can_record(self) -> bool:
        return self.role is Role.COORDINATOR

    @property
    def can_read_history(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.AUDITOR)

    @property
    def sees_names(self) -> bool:
        """Officials' names and addresses are shown to coordinators only."""
        return self.role is Role.COORDINATOR


def _role(value: str, where: str) -> Role:
    try:
        role = Role(value.strip())
    except ValueError:
        raise TokenError(
            _("{where}: role {role!r} is not one of viewer, coordinator, auditor").format(
                where=where, role=value.strip()
            )
        ) from None
    if role not in STAFF_ROLES:
        raise TokenError(
            _("{where}: role municipality is given by answer links only").format(where=where)
        )
    return role


def _name(value: str | None, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not _NAME.fullmatch(value):
        raise TokenError(
            _("{where}: name {name!r} must be 1 to 64 letters, digits, spaces or . _ @ -").format(
                where=where, name=value
            )
        )
    return value


@attrs.frozen
class TokenTable:
    """Token digests and the principal each one stands for."""

    principals: Mapping[str, Principal] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(self.principals)

    def lookup(self, token: str) -> Principal | None:
        return self.principals.get(digest(token))

    @classmethod
    def build(cls, entries: Iterable[tuple[str, Role, str | None]]) -> TokenTable:
        """From ``(digest, role, name)`` entries; a digest given twice is an error."""
        principals: dict[str, Principal] = {}
        for hexdigest, role, name in entries:
            if hexdigest in principals:
                raise TokenError(
                    _("token of {name} is configured twice").format(name=name or role.value)
                )
            principals[hexdigest] = Principal(role=role, name=name, fingerprint=hexdigest[:8])
        return cls(principals)

    @classmethod
    def parse_env(cls, value: str) -> TokenTable:
        """``TOKEN:ROLE[:NAME],...`` as in ``MMA_WEB_TOKENS``."""
        entries = []
        for number, item in enumerate(filter(None, (i.strip() for i in value.split(","))), 1):
            where = _("MMA_WEB_TOKENS entry {number}").format(number=number)
            parts = item.split(":", 2)
            if len(parts) < 2:
                raise TokenError(
                    _("{where}: expected TOKEN:ROLE or TOKEN:ROLE:NAME").format(where=where)
                )
            token, role, name = parts[0], parts[1], parts[2] if len(parts) == 3 else None
            _check_token(token, where)
            entries.append((digest(token), _role(role, where), _name(name, where)))
        return cls.build(entries)

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> TokenTable:
        """``[web.tokens]``: ``NAME = { token = "...", role = "..." }`` (or ``sha256``)."""
        entries = []
        for name, spec in table.items():
            where = f"[web.tokens] {name}"
            if not isinstance(spec, Mapping):
                raise TokenError(
                    _("{where}: expected a table with token (or sha256) and role").format(
                        where=where
                    )
                )
            unknown = set(spec) - {"token", "sha256", "role"}
            if unknown:
                raise TokenError(
                    _("{where}: unknown keys {keys}").format(
                        where=where, keys=", ".join(sorted(unknown))
                    )
                )
            if ("token" in spec) == ("sha256" in spec):
                raise TokenError(
                    _("{where}: give exactly one of token and sha256").format(where=where)
                )
            if "token" in spec:
                token = str(spec["token"])
                _check_token(token, where)
                hexdigest = digest(token)
            else:
                hexdigest = str(spec["sha256"]).lower()
                if not _HEX.fullmatch(hexdigest):
                    raise TokenError(
                        _("{where}: sha256 must be 64 hexadecimal digits").format(where=where)
                    )
            entries.append((hexdigest, _role(str(spec.get("role", "")), where), _name(name, where)))
        return cls.build(entries)

    def merged(self, other: TokenTable) -> TokenTable:
        entries = [(d, p.role, p.name) for d, p in {**self.principals, **other.principals}.items()]
        return TokenTable.build(entries)


def strength(token: str) -> float:
    """A cautious estimate of a token's strength in bits: its length times the smaller of
    the bits per character its character classes allow and the Shannon entropy of its own
    characters, counting a token that repeats itself once. A random token from ``secrets``
    scores about its true strength; a word, a name with a number or a repetition scores far
    less."""
    if not token:
        return 0.0
    period = next(
        p
        for p in range(1, len(token) + 1)
        if all(token[i] == token[i % p] for i in range(len(token)))
    )
    token = token[:period]
    pool = 0
    pool += 26 if any(c.islower() for c in token) else 0
    pool += 26 if any(c.isupper() for c in token) else 0
    pool += 10 if any(c.isdigit() for c in token) else 0
    pool += 32 if any(not c.isalnum() for c in token) else 0
    counts = Counter(token)
    size = len(token)
    shannon = -sum(n / size * math.log2(n / size) for n in counts.values())
    return size * min(math.log2(max(pool, 2)), shannon)


def new_token() -> str:
    """A new token of 256 bits from ``secrets`` (what ``mma serve --new-token`` prints)."""
    while True:  # its estimate is far above the bar; the loop only makes that certain
        token = secrets.token_urlsafe(NEW_TOKEN_BYTES)
        if strength(token) >= MIN_TOKEN_BITS:
            return token


def _check_token(token: str, where: str) -> None:
    if len(token) < MIN_TOKEN_LENGTH:
        raise TokenError(
            _("{where}: a token needs at least {length} characters").format(
                where=where, length=MIN_TOKEN_LENGTH
            )
        )
    if any(c.isspace() for c in token):
        raise TokenError(_("{where}: a token cannot contain spaces").format(where=where))
    if strength(token) < MIN_TOKEN_BITS:
        raise TokenError(
            _(
                "{where}: the token is too weak (about {bits} bits, at least {minimum} needed); "
                "make one with 'mma serve --new-token ROLE:NAME'"
            ).format(where=where, bits=int(strength(token)), minimum=MIN_TOKEN_BITS)
        )


def load_tokens(env: Mapping[str, str], web_table: Mapping[str, Any] | None) -> TokenTable:
    """The configured tokens: ``[web.tokens]`` of ``mma.toml`` plus ``MMA_WEB_TOKENS``."""
    table = TokenTable()
    if web_table:
        tokens = web_table.get("tokens", {})
        if not isinstance(tokens, Mapping):
            raise TokenError(_("[web.tokens] must be a table"))
        table = TokenTable.from_config(tokens)
    if env.get("MMA_WEB_TOKENS"):
        table = table.merged(TokenTable.parse_env(env["MMA_WEB_TOKENS"]))
    return table
