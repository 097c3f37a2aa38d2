"""The plugin machinery under the name the rest of ``mma_core`` has always used.

It is three modules, one per concern; this one only gathers their names:

- :mod:`mma_core.extensions.config`: ``mma.toml`` (:class:`Config`, :func:`load_config`, the check
of
  each ``[plugins.NAME]`` table);
- :mod:`mma_core.extensions.manager`: discovery, isolation and listing (:class:`Plugins`,
  :func:`load_plugins`, :func:`open_programme`);
- :mod:`mma_core.extensions.hooks`: the typed calls of ``pm.hook`` (:class:`Hooks`);
- :mod:`mma_core.extensions.records`: what is known of each plugin and hook call
  (:class:`PluginRecord`, :class:`HookFailure`, :class:`HookCall`).

A plugin imports none of these: everything it needs is in :mod:`mma_core.plugin_api`.
"""

from __future__ import annotations

from mma_core.extensions.config import (
    CONFIG_FILE,
    TOP_LEVEL_TABLES,
    Config,
    ConfigError,
    config_path,
    load_config,
    validate_section,
)
from mma_core.extensions.hooks import Hooks, PluginValidator
from mma_core.extensions.manager import (
    BUILTIN_PLUGINS,
    DEFAULT_CALCULATOR,
    PluginError,
    Plugins,
    load_plugins,
    open_programme,
)
from mma_core.extensions.records import BLOCKED, BROKEN, LOADED, HookCall, HookFailure, PluginRecord

__all__ = [
    "BLOCKED",
    "BROKEN",
    "BUILTIN_PLUGINS",
    "CONFIG_FILE",
    "DEFAULT_CALCULATOR",
    "LOADED",
    "TOP_LEVEL_TABLES",
    "Config",
    "ConfigError",
    "HookCall",
    "HookFailure",
    "Hooks",
    "PluginError",
    "PluginRecord",
    "PluginValidator",
    "Plugins",
    "config_path",
    "load_config",
    "load_plugins",
    "open_programme",
    "validate_section",
]
