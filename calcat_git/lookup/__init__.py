"""Constant look-ups: the engine, EXtra-style conditions and results."""
