"""The application layer: ``Programme`` (the commands and queries a service calls) and what it
is built from: the unit of work, the as-of folds, the store wiring, receipts, following the log."""
