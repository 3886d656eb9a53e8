"""Answers: text plus a chat context in, a reply out (cards, fees, calculators, search, charts, console).

No Telegram types and no store. It imports the catalog and the shared base only.
"""
