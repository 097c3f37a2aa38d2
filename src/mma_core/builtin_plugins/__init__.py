"""Plugins that ship with mma_core, registered by name after the installed ones.

Each is a module with ``@hookimpl`` functions, loaded and checked exactly like an external
plugin; disable one with ``MMA_DISABLE_PLUGINS=NAME``.
"""
