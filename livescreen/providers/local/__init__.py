"""The ``local`` provider: WebRTC from the host's browser straight to each viewer's.

The dev server relays the signalling; nothing here runs on Lambda.
"""
