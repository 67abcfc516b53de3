"""The dev server's own routes beside the functions.

``/local`` signalling for the local provider, recording uploads and media, and ``/chat`` for the
local chat. They exist only in the dev server, so they share a small toolkit (``http``) instead
of the function runtime.
"""
