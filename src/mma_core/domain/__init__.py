"""The domain: aggregates, events, values and errors. No I/O, no plugins, no persistence."""
