"""Reminders: catalog -> plan -> outbox -> dispatch; catalog changes -> alerts; countdowns; calendar.

It imports answers, the catalog, the store and the shared base; never tg, cli or watch.
"""
