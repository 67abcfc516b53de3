"""The ``local`` chat: one in-memory room in the dev server."""
