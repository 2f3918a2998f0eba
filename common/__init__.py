"""What every service and the gateway share: configuration, database sessions, metrics,
the working-day calendar, the event outbox, authentication and error types.

This package imports no service and no gateway code.
"""

__version__ = "0.1.0"
