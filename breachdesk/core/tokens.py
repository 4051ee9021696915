"""Bearer secrets (API tokens, calendar feed URLs): made at random, shown once, stored as a digest."""

import hashlib
import secrets

PREFIX = "bd_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Tokens carry 256 random bits, so a fast hash is enough (a slow one only guards guessable passwords)."""
    return hashlib.sha256(secret.encode()).hexdigest()
