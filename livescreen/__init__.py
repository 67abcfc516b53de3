"""live-screen-sharing: serverless screen-sharing livestreams."""

__version__ = "0.1.0"
