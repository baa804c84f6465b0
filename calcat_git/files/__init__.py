"""Catalog files: strict YAML, JSON Schemas, the layout, the one parser of catalog files into records, the catalog settings."""
