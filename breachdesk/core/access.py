"""Roles and route access rules: every endpoint declares who may use it, and anything undeclared is refused.

In core because every blueprint (core's health check and the audit log included) declares its rule here;
`auth` keeps the accounts that carry a role.
"""

import enum
from collections.abc import Callable, Iterable

from flask import abort, current_app, request
from flask_login import current_user

from breachdesk.extensions import login_manager


class Role(enum.StrEnum):
    ADMIN = "admin"  # users, inventory, templates, settings
    PRIVACY = "privacy"  # assesses, approves and sends notices; keeps the inventory
    RESPONDER = "responder"  # security on-call: files incidents
    VIEWER = "viewer"  # management: reads dashboards only


EVERYONE = frozenset(Role)
PRIVACY_TEAM = frozenset({Role.ADMIN, Role.PRIVACY})
RESPONDERS = frozenset({Role.ADMIN, Role.PRIVACY, Role.RESPONDER})
ADMINS = frozenset({Role.ADMIN})
PUBLIC = "public"


def allow(roles: Iterable[Role] | str) -> Callable:
    """Declare the roles that may call a view; `allow(PUBLIC)` for pages anyone can reach."""
    allowed = PUBLIC if roles == PUBLIC else frozenset(roles)

    def decorate(view: Callable) -> Callable:
        view.allowed_roles = allowed
        return view

    return decorate


def allowed_roles(endpoint: str):
    return getattr(current_app.view_functions[endpoint], "allowed_roles", None)


def enforce_access():
    """before_request hook: deny by default, so a new route without a rule can never leak."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    roles = allowed_roles(request.endpoint)
    if roles == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if roles is None or current_user.role not in roles:
        abort(403)
    return None


def can(endpoint: str) -> bool:
    """For templates: show a link only to those who may follow it."""
    roles = allowed_roles(endpoint)
    return roles == PUBLIC or (current_user.is_authenticated and roles is not None and current_user.role in roles)
