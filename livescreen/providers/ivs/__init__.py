"""The ``ivs`` provider: Amazon IVS Real-Time stages.

Their tokens, stage events, sweeping and recordings.
"""
