"""The "what if" page: a system's blast radius, computed by the same code as an incident's impact."""

from flask import Blueprint, render_template
from sqlalchemy import select

from breachdesk.core.access import EVERYONE, allow
from breachdesk.extensions import db
from breachdesk.impact.queries import Scope, compute
from breachdesk.inventory.models import System

bp = Blueprint("impact", __name__)


@bp.get("/systems/<key>/blast-radius")
@allow(EVERYONE)
def blast_radius(key: str):
    system = db.first_or_404(select(System).where(System.key == key))
    impact = compute(Scope((system.id,)))
    return render_template("impact/blast_radius.html", system=system, impact=impact)
