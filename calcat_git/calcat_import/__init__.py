"""``import-calcat``: CALCAT replies → facts → observed mapping → plan → write (and parity with recorded answers)."""
