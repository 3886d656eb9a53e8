"""policybot: a Telegram bot that keeps cross-border sellers ahead of platform rule changes."""

__version__ = "0.1.0"
