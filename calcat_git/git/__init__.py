"""The one git boundary: repositories, first-parent history, blobs, commits. Knows nothing about YAML or the catalog layout."""
