"""Inventory pages: lists with search, details, create/edit forms, import and export."""

import shutil
import tempfile
from typing import IO

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_template,
    stream_with_context,
    url_for,
)
from sqlalchemy import select

from breachdesk.audit.services import carrying_actor
from breachdesk.core.access import ADMINS, EVERYONE, PRIVACY_TEAM, allow
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.i18n import Label
from breachdesk.core.progress import run_in_background
from breachdesk.core.web import flash_problems, say
from breachdesk.extensions import db
from breachdesk.inventory import queries, services
from breachdesk.inventory.exporter import export_structure, iter_volumes_csv
from breachdesk.inventory.forms import (
    ActivityForm,
    CustomerForm,
    ImportForm,
    OrganisationForm,
    SystemForm,
    VolumeForm,
    as_lines,
    regime_lines,
    split_keys,
)
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import Customer, Organisation, ProcessingActivity, System, Volume
from breachdesk.inventory.regions import region_name
from breachdesk.inventory.rules import REGIME_GROUPS, REGIMES
from breachdesk.inventory.taxonomy import Sensitivity, country_name, data_categories, data_subject_categories

bp = Blueprint("inventory", __name__)
#: on our pages Fides's data subject "customer" would read as one of our customers: they are our customers' clients
OUR_SUBJECT_WORDS = {"customer": "Customers' clients"}


def subject_name(key: str) -> str:
    """A data subject category in plain words (the English catalogue's, as notices say it), never its key."""
    return OUR_SUBJECT_WORDS.get(key) or say(Label("data subject category", data_subject_categories().get(key, key)))


@bp.app_template_filter("category_names")
def category_names(keys: list[str]) -> str:
    """Fides data categories in plain words ("email address, phone number"), as notices say them, never as keys."""
    names = data_categories()
    return ", ".join(say(Label("data category", names.get(key, key))) for key in keys)


@bp.app_context_processor
def taxonomy_helpers():
    return {
        "category_name": lambda k: data_categories().get(k, k),
        "subject_name": subject_name,
        "sensitivity_name": lambda n: Sensitivity(n).name.lower(),
        "country_name": country_name,
        "region_name": region_name,
    }


def _by_key(model, key: str):
    return db.first_or_404(select(model).where(model.key == key))


def _page(query):
    return db.paginate(query, per_page=current_app.config["PAGE_SIZE"], max_per_page=200)


def _save(section: str, raw: dict, done_endpoint: str, form):
    """Shared tail of every create/edit: save through the import rules, commit, or show the problems."""
    try:
        entry = services.save_entry(section, raw)
    except ValidationFailed as error:
        flash_problems(error, form)
        return None
    db.session.commit()
    flash(f"Saved {entry.key}.", "info")
    return redirect(url_for(done_endpoint, key=entry.key))


def _form_page(form, entry, kind: str, back_endpoint: str):
    if entry is not None and "key" in form:
        form.key.render_kw = {"readonly": True}  # keys are stable: imports and notices refer to them
    return render_template("inventory/form.html", form=form, entry=entry, kind=kind, back=url_for(back_endpoint))


@bp.get("/inventory")
@allow(EVERYONE)
def home():
    return render_template("inventory/home.html", counts=queries.inventory_counts())


# --- customers ---


@bp.get("/customers")
@allow(EVERYONE)
def customers():
    q = request.args.get("q", "").strip()
    return render_template(
        "inventory/customers.html", q=q, page=_page(queries.searched(Customer, q, Customer.name, Customer.country))
    )


@bp.get("/customers/<key>")
@allow(EVERYONE)
def customer(key: str):
    entry = _by_key(Customer, key)
    activities = db.session.scalars(
        select(ProcessingActivity).where(ProcessingActivity.customers.contains(entry)).order_by(ProcessingActivity.key)
    ).all()
    volumes = _page(queries.volumes_for(customer_id=entry.id))
    return render_template("inventory/customer.html", customer=entry, activities=activities, volumes=volumes)


def _customer_raw(form: CustomerForm) -> dict:
    raw = {
        name: form[name].data
        for name in (
            "key",
            "name",
            "country",
            "language",
            "time_zone",
            "notice_terms",
            "notice_hours",
            "hipaa_covered_entity",
            "financial_entity",
        )
    }
    raw["country"] = (raw["country"] or "").upper()
    raw["contacts"] = [
        {"role": c.role.data, "name": c["name"].data, "email": c.email.data}
        for c in (entry.form for entry in form.contacts)
        if c.email.data or c["name"].data
    ]
    return raw


@bp.route("/customers/new", methods=["GET", "POST"], defaults={"key": None})
@bp.route("/customers/<key>/edit", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def customer_form(key: str | None):
    entry = _by_key(Customer, key) if key else None
    form = CustomerForm(obj=entry)
    if entry is not None and request.method == "GET":
        form.contacts.append_entry()  # one blank row to add a contact
    if form.validate_on_submit():
        raw = _customer_raw(form)
        if entry is not None:
            raw["key"] = entry.key  # keys are stable
        if (response := _save("customers", raw, "inventory.customer", form)) is not None:
            return response
    return _form_page(form, entry, "customer", "inventory.customers")


# --- systems ---


@bp.get("/systems")
@allow(EVERYONE)
def systems():
    q = request.args.get("q", "").strip()
    return render_template(
        "inventory/systems.html", q=q, page=_page(queries.searched(System, q, System.name, System.vendor))
    )


@bp.get("/systems/<key>")
@allow(EVERYONE)
def system(key: str):
    """The system and who depends on it: the first question when it is breached."""
    entry = _by_key(System, key)
    return render_template(
        "inventory/system.html", system=entry, customers=_page(queries.customers_depending_on(entry.id))
    )


@bp.route("/systems/new", methods=["GET", "POST"], defaults={"key": None})
@bp.route("/systems/<key>/edit", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def system_form(key: str | None):
    entry = _by_key(System, key) if key else None
    form = SystemForm(obj=entry)
    if form.validate_on_submit():
        raw = {
            name: form[name].data
            for name in (
                "key",
                "name",
                "is_subprocessor",
                "vendor",
                "hosting_country",
                "hosting_region",
                "encrypted_at_rest",
                "description",
            )
        }
        raw["hosting_country"] = (raw["hosting_country"] or "").upper()
        if entry is not None:
            raw["key"] = entry.key
        if (response := _save("systems", raw, "inventory.system", form)) is not None:
            return response
    return _form_page(form, entry, "system", "inventory.systems")


# --- processing activities ---


@bp.get("/activities")
@allow(EVERYONE)
def activities():
    q = request.args.get("q", "").strip()
    return render_template(
        "inventory/activities.html",
        q=q,
        page=_page(queries.searched(ProcessingActivity, q, ProcessingActivity.name, ProcessingActivity.purpose)),
    )


@bp.get("/activities/<key>")
@allow(EVERYONE)
def activity(key: str):
    entry = _by_key(ProcessingActivity, key)
    return render_template(
        "inventory/activity.html", activity=entry, volumes=_page(queries.volumes_for(activity_id=entry.id))
    )


def _parse_transfers(text: str) -> list[dict]:
    transfers = []
    for line in (text or "").splitlines():
        if line.strip():
            country, _, safeguard = line.partition(":")
            transfers.append({"country": country.strip().upper(), "safeguard": safeguard.strip()})
    return transfers


@bp.route("/activities/new", methods=["GET", "POST"], defaults={"key": None})
@bp.route("/activities/<key>/edit", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def activity_form(key: str | None):
    entry = _by_key(ProcessingActivity, key) if key else None
    system_choices = db.session.execute(select(System.key, System.name).order_by(System.key)).all()
    form = ActivityForm(system_choices=system_choices)
    if entry is not None and request.method == "GET":
        for name in ("key", "name", "purpose", "retention_days", "retention_note"):
            form[name].data = getattr(entry, name)
        form.role.data = entry.role.value
        form.legal_basis.data = entry.legal_basis.value if entry.legal_basis else ""
        form.systems.data = [s.key for s in entry.systems]
        form.customers.data = "\n".join(c.key for c in entry.customers)
        form.data_categories.data = [c.data_category for c in entry.data_categories]
        form.data_subject_categories.data = [s.data_subject_category for s in entry.subject_categories]
        form.transfers.data = "\n".join(f"{t['country']}: {t.get('safeguard', '')}" for t in entry.transfers)
    if form.validate_on_submit():
        raw = {
            name: form[name].data
            for name in (
                "key",
                "name",
                "role",
                "purpose",
                "retention_days",
                "retention_note",
                "systems",
                "data_categories",
                "data_subject_categories",
            )
        }
        raw["legal_basis"] = form.legal_basis.data or None
        raw["customers"] = split_keys(form.customers.data)
        raw["transfers"] = _parse_transfers(form.transfers.data)
        if entry is not None:
            raw["key"] = entry.key
        if (response := _save("activities", raw, "inventory.activity", form)) is not None:
            return response
    return _form_page(form, entry, "activity", "inventory.activities")


# --- volumes ---


@bp.get("/volumes")
@allow(EVERYONE)
def volumes():
    q = request.args.get("q", "").strip()
    return render_template("inventory/volumes.html", q=q, volumes=_page(queries.volumes_for(q=q)))


@bp.route("/volumes/new", methods=["GET", "POST"], defaults={"volume_id": None})
@bp.route("/volumes/<int:volume_id>/edit", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def volume_form(volume_id: int | None):
    volume = db.get_or_404(Volume, volume_id) if volume_id else None
    choices = db.session.execute(
        select(ProcessingActivity.key, ProcessingActivity.name).order_by(ProcessingActivity.key)
    ).all()
    form = VolumeForm(activity_choices=choices)
    if request.method == "GET" and volume is not None:
        form.process(
            data={
                "customer": volume.customer.key if volume.customer else "",
                "activity": volume.activity.key,
                "data_subject_category": volume.data_subject_category,
                "region": volume.region,
                "data_subjects": volume.data_subjects,
                "records": volume.records,
            }
        )
    elif request.method == "GET":
        form.process(data={"customer": request.args.get("customer", ""), "activity": request.args.get("activity")})
    if form.validate_on_submit():
        values = {
            name: form[name].data
            for name in ("customer", "activity", "data_subject_category", "region", "data_subjects", "records")
        }
        try:
            saved = services.save_volume(values, volume)
        except ValidationFailed as error:
            flash_problems(error, form)
        else:
            db.session.commit()
            flash("Volume saved.", "info")
            return redirect(url_for("inventory.activity", key=saved.activity.key))
    return _form_page(form, volume, "volume", "inventory.activities")


# --- import and export ---


@bp.route("/inventory/import", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def import_page():
    """Uploads import while the page shows progress: the answer streams as the import advances."""
    form = ImportForm()
    if form.validate_on_submit():
        structure, volumes = form.structure.data, form.volumes.data
        if not structure and not volumes:
            return render_template(
                "inventory/import.html", form=form, problems=["choose an inventory file, a volumes CSV, or both"]
            ), 422
        try:
            structure_arg = (structure.filename, _decode(structure)) if structure else None
        except ValidationFailed as error:
            return render_template("inventory/import.html", form=form, problems=error.problems), 422
        volumes_arg = (volumes.filename, *_owned_copy(volumes.stream)) if volumes else None

        def job(progress) -> str:
            summary = import_inventory(structure_arg, volumes_arg, progress)
            db.session.commit()
            return str(summary)

        events = run_in_background(
            current_app._get_current_object(),
            carrying_actor(job),
            name="inventory-import",
            cleanup=volumes_arg[1].close if volumes_arg else None,
        )
        return Response(stream_template("inventory/import_progress.html", events=events))
    return render_template("inventory/import.html", form=form, problems=[])


def _owned_copy(stream) -> tuple[IO[bytes], int]:
    """The upload is closed with the request; the import outlives the view function, so it reads a copy."""
    copy = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed by the import thread
    shutil.copyfileobj(stream, copy, 1 << 20)
    size = copy.tell()
    copy.seek(0)
    return copy, size


def _decode(upload) -> str:
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed([f"{upload.filename}:?: encoding: not UTF-8 text ({error.reason})"]) from None


@bp.get("/inventory/export.yaml")
@allow(PRIVACY_TEAM)
def export_yaml():
    return Response(
        export_structure("volumes.csv"),
        mimetype="application/yaml",
        headers={"Content-Disposition": "attachment; filename=inventory.yaml"},
    )


@bp.get("/inventory/volumes.csv")
@allow(PRIVACY_TEAM)
def export_volumes():
    return Response(
        stream_with_context(iter_volumes_csv()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=volumes.csv"},
    )


# --- organisation profile ---


@bp.get("/settings/organisation")
@allow(EVERYONE)
def organisation():
    return render_template("inventory/organisation.html", organisation=db.session.get(Organisation, 1))


@bp.route("/settings/organisation/edit", methods=["GET", "POST"])
@allow(ADMINS)
def organisation_edit():
    current = db.session.get(Organisation, 1)
    # a post is read from what it sends: a field it leaves out is empty, not the stored mapping (which is no text)
    form = OrganisationForm(obj=current if request.method == "GET" else None, regime_choices=(*REGIME_GROUPS, *REGIMES))
    if request.method == "GET" and current is not None:
        form.authorities.data = as_lines(current.authorities)
        form.entity_status.data = as_lines(current.entity_status)
    if form.validate_on_submit():
        try:
            services.save_organisation(
                {
                    "name": form.name.data,
                    "country": (form.country.data or "").upper(),
                    "lead_supervisory_authority": form.lead_supervisory_authority.data or "",
                    "regimes": form.regimes.data or [],
                    "authorities": regime_lines("authorities", form.authorities.data),
                    "entity_status": regime_lines("entity_status", form.entity_status.data),
                    "undue_delay_target_hours": form.undue_delay_target_hours.data,
                    "dpo_name": form.dpo_name.data or "",
                    "dpo_email": form.dpo_email.data or "",
                }
            )
        except ValidationFailed as error:
            flash_problems(error, form)
        else:
            db.session.commit()
            flash("Organisation profile saved; open incidents' obligations updated.", "info")
            return redirect(url_for("inventory.organisation"))
    return render_template(
        "inventory/form.html",
        form=form,
        entry=current,
        kind="organisation profile",
        back=url_for("inventory.organisation"),
    )
