"""Shared building blocks: database base and types, the clock, domain errors."""
