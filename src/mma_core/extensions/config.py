"""``mma.toml``: finding it, reading it, and checking each plugin's table against its schema.

The configuration holds ``[plugins.NAME]`` tables (one per plugin, checked against the
:class:`~mma_core.extensions.values.Setting` schema the plugin declares), ``[costs]`` (which
calculator prices each cost kind), ``[delivery]`` and ``[web]``. It imports no plugin machinery,
so the hook specifications can name :class:`Config` at runtime.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from mma_core.extensions.values import Setting
from mma_core.language.i18n import N_, _

__all__ = [
    "CONFIG_FILE",
    "TOP_LEVEL_TABLES",
    "Config",
    "ConfigError",
    "config_path",
    "load_config",
    "validate_section",
]

CONFIG_FILE = "mma.toml"
TOP_LEVEL_TABLES = ("plugins", "costs", "delivery", "web")


class ConfigError(ValueError):
    """``mma.toml`` is unreadable or holds a value a plugin does not accept."""


@attrs.define
class Config:
    """The loaded ``mma.toml``: ``[plugins.NAME]`` tables, ``[costs]`` and ``[delivery]``."""

    store: str = "memory://"
    data: dict[str, Any] = attrs.field(factory=dict)
    path: Path | None = None
    _validated: dict[str, dict[str, Any]] = attrs.field(factory=dict, alias="_validated")

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else CONFIG_FILE

    def raw_plugin(self, name: str) -> dict[str, Any]:
        section = self.data.get("plugins", {}).get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(
                _("{where}: [plugins.{name}] must be a table").format(where=self.where, name=name)
            )
        return section

    def plugin(self, name: str) -> dict[str, Any]:
        """The plugin's ``[plugins.NAME]`` table, validated, with defaults filled in."""
        if name in self._validated:
            return dict(self._validated[name])
        return dict(self.raw_plugin(name))

    def validate_plugin(self, name: str, schema: Mapping[str, Setting]) -> dict[str, Any]:
        raw = self.raw_plugin(name)
        secrets = [key for key, setting in schema.items() if setting.secret and raw.get(key)]
        if secrets and self.path is not None:
            check_private(self.path, f"[plugins.{name}] {secrets[0]}")
        values = validate_section(name, schema, raw, self.where)
        self._validated[name] = values
        return dict(values)

    @property
    def costs(self) -> dict[str, str]:
        """``[costs]``: which calculator prices each cost kind."""
        from mma_core.domain.values import CostKind

        table = self.data.get("costs", {})
        kinds = {kind.value for kind in CostKind}
        result: dict[str, str] = {}
        for key, value in table.items():
            if key not in kinds:
                raise ConfigError(
                    _("{where}: [costs] has unknown key {key}; use {keys}").format(
                        where=self.where, key=repr(key), keys=", ".join(sorted(kinds))
                    )
                )
            if not isinstance(value, str):
                raise ConfigError(
                    _("{where}: [costs] {key} must name a calculator").format(
                        where=self.where, key=key
                    )
                )
            result[key] = value
        return result

    @property
    def delivery(self) -> dict[str, Any]:
        table = self.data.get("delivery", {})
        return dict(table) if isinstance(table, dict) else {}


def config_path(
    store: str, explicit: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> Path | None:
    """``--config FILE``, else ``MMA_CONFIG``, else ``mma.toml`` next to a SQLite store."""
    if explicit:
        return Path(explicit)
    if env.get("MMA_CONFIG"):
        return Path(env["MMA_CONFIG"])
    try:
        parts = urlsplit(store)
    except ValueError:
        return None  # a malformed URL: opening the store says so, in one line
    if parts.scheme.lower() == "sqlite":
        path = unquote(parts.path if not parts.netloc else parts.netloc + parts.path)
        path = path[1:] if path.startswith("/") else path
        if path:
            candidate = Path(path).parent / CONFIG_FILE
            if candidate.exists():
                return candidate
    return None


def load_config(
    store: str = "memory://",
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    env = os.environ if env is None else env
    found = config_path(store, path, env)
    if found is None:
        return Config(store=store)
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            _("configuration file {file} does not exist").format(file=found)
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            _("{file}: not valid TOML ({error})").format(file=found, error=error)
        ) from None
    for key in data:
        if key not in TOP_LEVEL_TABLES:
            raise ConfigError(
                _("{file}: unknown table [{key}]; expected {tables}").format(
                    file=found, key=key, tables=", ".join(TOP_LEVEL_TABLES)
                )
            )
    return Config(store=store, data=data, path=found)


class SecretExposed(ConfigError):
    """A configuration file holds a secret that others may read: refused for every command
    (not only for its plugin), as the cipher key file is."""


def check_private(path: Path, secret: str) -> None:
    """Refuse a configuration file that holds a secret (``secret`` names it) and that group
    or others may read or change, as the cipher key file is refused: with the chmod to run."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({type(error).__name__})") from None
    if mode & 0o077:
        raise SecretExposed(
            _(
                "{path} holds a secret ({secret}) and others may read it (mode {mode}); make "
                "it private with: chmod 600 {path}"
            ).format(path=path, secret=secret, mode=f"{mode:04o}")
        )


def validate_section(
    plugin: str, schema: Mapping[str, Setting], raw: Mapping[str, Any], where: str = CONFIG_FILE
) -> dict[str, Any]:
    """Check a ``[plugins.NAME]`` table against the plugin's schema; the error names both."""
    values: dict[str, Any] = {}
    for key in raw:
        if key not in schema:
            accepted = ", ".join(sorted(schema)) or _("no keys")
            raise ConfigError(
                _(
                    "{where}: [plugins.{plugin}] has unknown key {key}; {plugin} accepts {keys}"
                ).format(where=where, plugin=plugin, key=repr(key), keys=accepted)
            )
    for key, setting in schema.items():
        if key not in raw:
            if setting.required:
                raise ConfigError(
                    _("{where}: [plugins.{plugin}] needs key {key}").format(
                        where=where, plugin=plugin, key=repr(key)
                    )
                    + (f" ({setting.help})" if setting.help else "")
                )
            values[key] = setting.default
            continue
        values[key] = _convert(plugin, key, setting, raw[key], where)
    return values


def _convert(plugin: str, key: str, setting: Setting, value: Any, where: str) -> Any:
    def bad(expected: str) -> ConfigError:
        shown = "<secret>" if setting.secret else repr(value)
        return ConfigError(
            _("{where}: [plugins.{plugin}] key {key} must be {expected}, not {value}").format(
                where=where, plugin=plugin, key=repr(key), expected=_(expected), value=shown
            )
        )

    kind = setting.type
    if kind == "str":
        if not isinstance(value, str):
            raise bad(N_("a string"))
        if setting.choices and value not in setting.choices:
            raise bad(_("one of {choices}").format(choices=", ".join(setting.choices)))
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad(N_("a whole number"))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad(N_("true or false"))
        return value
    if kind == "decimal":
        if isinstance(value, bool | float) or not isinstance(value, str | int):
            raise bad(N_('an amount as a string, e.g. "1250.00"'))
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise bad(N_('an amount as a string, e.g. "1250.00"')) from None
        if not amount.is_finite():
            raise bad(N_("a finite amount"))
        return amount
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(N_("a list of strings"))
        return list(value)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad(N_("a table of strings"))
    return dict(value)
