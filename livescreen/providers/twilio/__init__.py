"""The ``twilio`` provider: Twilio Video rooms.

Media processors for the Live flow, room callbacks, sweeping and compositions.
"""
