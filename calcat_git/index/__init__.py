"""The derived SQLite index of first-parent history: schema, parse, build, reader, seeks."""
