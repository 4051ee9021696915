"""Append-only, hash-chained record of every change and every login."""
