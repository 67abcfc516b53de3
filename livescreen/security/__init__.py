"""Who may do what: the host's password and session, and what the logs never show."""
