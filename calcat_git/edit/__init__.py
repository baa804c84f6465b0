"""The one write path: ``Change`` (edits, inject, import), validated and atomic."""
