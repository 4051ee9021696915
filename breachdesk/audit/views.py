"""The audit log page, newest first, filterable by entity and action."""

from flask import Blueprint, render_template, request
from sqlalchemy import select

from breachdesk.audit.models import AuditEvent
from breachdesk.core.access import PRIVACY_TEAM, allow
from breachdesk.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@allow(PRIVACY_TEAM)
def events():
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    entity_type = request.args.get("entity_type", "")
    action = request.args.get("action", "")
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if action:
        query = query.where(AuditEvent.action == action)
    page = db.paginate(query, per_page=50, max_per_page=200)
    return render_template("audit/events.html", page=page, entity_type=entity_type, action=action)
