"""Accounts, roles, login and the route-level access rules."""
