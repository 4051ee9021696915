"""Issuing, finding and revoking API tokens. Callers commit."""

from sqlalchemy import select

from breachdesk.api.models import ApiToken
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import NotFound
from breachdesk.core.tokens import digest, new_secret
from breachdesk.extensions import db


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is never stored and cannot be shown again."""
    secret = new_secret()
    token = ApiToken(user=user, name=name, token_hash=digest(secret), hint=secret[:10])
    db.session.add(token)
    db.session.flush()
    return token, secret


def user_for(secret: str) -> tuple[User, ApiToken] | None:
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.is_active:
        return None
    return token.user, token


def revoke_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now_utc()
    return token
