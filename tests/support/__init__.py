"""Helpers shared by the test folders: the bot as a process, seller SKU files."""
