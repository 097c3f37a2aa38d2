"""The plugin machinery: the hook specifications, discovery and isolation, the typed hook calls,
the plugin configuration, and the values that pass through the hooks. Plugins import none of
this directly: ``mma_core.plugin_api`` is their door."""
