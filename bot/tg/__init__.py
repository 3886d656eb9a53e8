"""The Telegram adapter: python-telegram-bot handlers over the answers core and the store."""
