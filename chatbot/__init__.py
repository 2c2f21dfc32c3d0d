"""A live-chat assistant for a spine clinic's website: FAQ bot with human handoff."""

__version__ = "0.1.0"
