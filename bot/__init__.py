"""Composition root: settings, start-up and shutdown of the bot process."""
