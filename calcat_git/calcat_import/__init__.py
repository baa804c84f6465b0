"""``import-calcat``: CALCAT replies → facts → observed mapping → plan → write."""
