"""Alembic environment: migrations run on the Flask app's engine and compare against its models."""

import logging

from alembic import context
from flask import current_app

log = logging.getLogger("alembic.env")


def render_item(type_, obj, autogen_context):
    """Write our UTC type as a plain zone-aware DateTime, so migrations never import application code."""
    from breachdesk.core.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def skip_empty_autogenerate(migration_context, revision, directives):
    if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def configure_args() -> dict:
    migrate = current_app.extensions["migrate"]
    args = dict(migrate.configure_args)
    args.setdefault("render_item", render_item)
    args.setdefault("process_revision_directives", skip_empty_autogenerate)
    return args


def run_migrations_offline() -> None:
    db = current_app.extensions["migrate"].db
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=db.metadata,
        literal_binds=True,
        **configure_args(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    db = current_app.extensions["migrate"].db
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata, **configure_args())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
