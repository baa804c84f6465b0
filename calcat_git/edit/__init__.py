"""One-step registry edits (module swaps and moves, new PDUs), validated before writing."""
