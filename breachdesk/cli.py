"""The `breachdesk` console script: Flask's CLI with our app factory (db, user, inventory, audit, demo, serve)."""

from flask.cli import FlaskGroup

from breachdesk import create_app

main = FlaskGroup(create_app=lambda: create_app(), help="BreachDesk command line.")
