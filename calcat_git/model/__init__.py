"""The catalog's records: frozen dataclasses, validity intervals, mapping folds, CCV batches,
problems, and the selection contract (pure functions over records).

Imports nothing of the package but ``errors`` and ``timeutil``.
"""
