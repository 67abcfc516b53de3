"""The command line: ``livescreen dev``, ``configure``, ``cleanup`` and ``recordings``."""
