"""The catalog as one object (a snapshot of the repository, or a published site), and mapping history with both clocks."""
