"""The ``calcat-git`` command line: one module per command group, ``common`` for shared options and JSON output."""
