"""``calcat-git serve``: CALCAT's REST API shapes, the view of one snapshot, the ASGI app."""
