"""The catalog: policies/*.toml loaded and checked into an immutable Catalog, and the fee engine.

Pure data. It imports only the shared base (clock, errors, money, i18n, zones, telegram_text): no store,
no answers, no Telegram.
"""
