"""The emulated Twilio account and host secrets the functional tests share.

Test modules import them from here, never from ``conftest``: with several test tiers collected
in one run, ``import conftest`` finds whichever tier's conftest came first.
"""

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "emulated-auth-token-0123456789abcdef"
API_KEY_SID = "SK" + "2e" * 16
API_KEY_SECRET = "emulated-api-key-secret-0123456789abcdef"
HOST_PASSWORD = "correct horse battery staple"
HOST_SESSION_SECRET = "emulated-host-session-secret-0123456789"
