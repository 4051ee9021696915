"""Inventory import and export: all-or-nothing, every problem located by file, line and field."""

import io
import textwrap

import pytest
from sqlalchemy import func, select

from breachdesk.core.errors import ValidationFailed
from breachdesk.demo.cli import DEMO_DIR
from breachdesk.extensions import db
from breachdesk.inventory import fileformat
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import ActivityDataCategory, Customer, ProcessingActivity, Volume
from breachdesk.inventory.taxonomy import Sensitivity
from tests.conftest import clean_tables, table_fingerprint

STRUCTURE = textwrap.dedent("""\
    format: breachdesk-inventory/1
    customers:
      - key: acme
        name: Acme SAS
        country: FR
        language: fr
        time_zone: Europe/Paris
        contacts:
          - {role: dpo, name: Ada Lovelace, email: dpo@acme.example}
      - key: globex
        name: Globex Ltd
        country: GB
    systems:
      - {key: main-db, name: Main database, hosting_country: IE, encrypted_at_rest: true}
      - {key: sms, name: SMS relay, is_subprocessor: true, vendor: Twilio, hosting_country: US}
    activities:
      - key: messaging
        name: Messaging
        role: processor
        retention_days: 6
        systems: [main-db, sms]
        data_categories: [user.content.private, user.contact.phone_number, user.financial.bank_account]
        data_subject_categories: [customer, prospect]
      - key: prospects
        name: Prospection
        role: controller
        legal_basis: consent
        systems: [main-db]
        data_categories: [user.contact.email]
        data_subject_categories: [prospect]
    volumes: volumes.csv
    """)
VOLUMES = (
    "customer,activity,data_subject_category,data_subjects,records\n"
    "acme,messaging,customer,1200,16000\n"
    "globex,messaging,prospect,300,900\n"
    ",prospects,prospect,5000,5200\n"
)


def write(tmp_path, structure=STRUCTURE, volumes=VOLUMES, encoding="utf-8"):
    (tmp_path / "inventory.yaml").write_text(structure, encoding="utf-8")
    (tmp_path / "volumes.csv").write_bytes(volumes.encode(encoding))
    return tmp_path / "inventory.yaml"


def run_import(runner, path, *extra):
    return runner.invoke(args=["inventory", "import", str(path), *extra])


def test_import_creates_the_inventory_with_derived_sensitivity(runner, tmp_path):
    result = run_import(runner, write(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 customers created" in result.output and "3 volume rows created" in result.output
    acme = db.session.scalar(select(Customer).where(Customer.key == "acme"))
    assert (acme.country, acme.time_zone, acme.notice_hours, acme.contacts[0].email) == (
        "FR",
        "Europe/Paris",
        24,
        "dpo@acme.example",
    )
    messaging = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "messaging"))
    assert [c.key for c in messaging.customers] == ["acme", "globex"]  # linked by their volume rows
    sensitivity = dict(
        db.session.execute(select(ActivityDataCategory.data_category, ActivityDataCategory.sensitivity)).all()
    )
    assert sensitivity["user.financial.bank_account"] == Sensitivity.FINANCIAL
    assert sensitivity["user.content.private"] == Sensitivity.BEHAVIOURAL


def test_importing_twice_changes_nothing_and_duplicates_nothing(runner, tmp_path):
    path = write(tmp_path)
    run_import(runner, path)
    before = {t: rows for t, rows in table_fingerprint().items() if t != "audit_events"}
    result = run_import(runner, path)
    assert result.exit_code == 0 and "created" not in result.output and "updated" not in result.output
    assert {t: rows for t, rows in table_fingerprint().items() if t != "audit_events"} == before


def test_export_then_import_gives_back_the_same_inventory(app, runner, tmp_path):
    assert run_import(runner, DEMO_DIR / "inventory.yaml").exit_code == 0
    first = tmp_path / "first"
    assert runner.invoke(args=["inventory", "export", str(first)]).exit_code == 0
    clean_tables()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    assert run_import(runner, first / "inventory.yaml").exit_code == 0
    second = tmp_path / "second"
    runner.invoke(args=["inventory", "export", str(second)])
    for name in ("inventory.yaml", "volumes.csv"):
        assert (first / name).read_text() == (second / name).read_text(), name
    assert (first / "volumes.csv").read_text().count("\n") == 119  # header + the 118 demo rows


def test_the_web_export_is_the_cli_export(app, client, login, runner, tmp_path):
    from breachdesk.auth.models import Role

    run_import(runner, write(tmp_path))
    runner.invoke(args=["inventory", "export", str(tmp_path / "out")])
    login(Role.PRIVACY)
    assert client.get("/inventory/export.yaml").data.decode() == (tmp_path / "out" / "inventory.yaml").read_text()
    assert client.get("/inventory/volumes.csv").data.decode() == (tmp_path / "out" / "volumes.csv").read_text()


BAD_STRUCTURES = {
    "unknown taxonomy key": (
        ("user.financial.bank_account]", "user.financial.bank_acount]"),
        "inventory.yaml:22: activities[messaging].data_categories: 'user.financial.bank_acount' is not a data "
        "category of the Fides taxonomy",
    ),
    "unknown system": (
        ("systems: [main-db, sms]", "systems: [main-db, ghost]"),
        "inventory.yaml:21: activities[messaging].systems: unknown system 'ghost'",
    ),
    "duplicate key": (
        ("  - key: globex", "  - key: acme"),
        "inventory.yaml:10: customers[acme].key: duplicate key (first on line 3)",
    ),
    "bad country": (
        ("country: GB", "country: UK"),
        "inventory.yaml:12: customers[globex].country: 'UK' is not an ISO 3166-1 alpha-2 country code",
    ),
    "bad time zone": (
        ("Europe/Paris", "Europe/Pariss"),
        "inventory.yaml:7: customers[acme].time_zone: 'Europe/Pariss' is not an IANA time zone",
    ),
    "unknown subject category": (
        ("[customer, prospect]", "[customer, martian]"),
        "inventory.yaml:23: activities[messaging].data_subject_categories: 'martian'",
    ),
    "wrong type": (
        ("retention_days: 6", "retention_days: six"),
        "inventory.yaml:20: activities[messaging].retention_days: expected int, got str 'six'",
    ),
    "unknown field": (
        ("    language: fr", "    langauge: fr"),
        "inventory.yaml:6: customers[acme].langauge: unknown field",
    ),
    "missing required": (("    name: Globex Ltd\n", ""), "inventory.yaml:10: customers[globex].name: is required"),
    "bad email": (("dpo@acme.example", "dpo-at-acme"), "inventory.yaml:9: customers[acme].contacts[0].email"),
    "yaml syntax": (("systems:\n  - {key: main-db", "systems: [\n  - {key: main-db"), "inventory.yaml:14: syntax:"),
    # whole numbers past their bounds: past 2**31 PostgreSQL's INTEGER refuses them, past 2**63 SQLite's driver
    "retention past a century": (
        ("retention_days: 6", "retention_days: 2147483648"),
        "inventory.yaml:20: activities[messaging].retention_days: must be at most 36,500",
    ),
    "notice hours past 90 days": (
        ("    language: fr", "    notice_hours: 9223372036854775808"),
        "inventory.yaml:6: customers[acme].notice_hours: must be at most 2,160",
    ),
    "a number int() cannot read": (
        ("retention_days: 6", "retention_days: " + "9" * 5000),
        "inventory.yaml:20: syntax: a number of more than 100 digits",
    ),
    # a status is a boolean: a number or a quoted word is refused, never read as one
    "a status that is a number": (
        ("    language: fr", "    hipaa_covered_entity: 1"),
        "inventory.yaml:6: customers[acme].hipaa_covered_entity: expected bool, got int 1",
    ),
    "a status that is a word": (
        ("    country: GB", '    country: GB\n    financial_entity: "no"'),
        "inventory.yaml:13: customers[globex].financial_entity: expected bool, got str 'no'",
    ),
    "a NUL character": (
        ("name: Acme SAS", 'name: "Acme\\0SAS"'),
        "inventory.yaml:4: customers[acme].name: contains a NUL",
    ),
}


@pytest.mark.parametrize("case", BAD_STRUCTURES, ids=list(BAD_STRUCTURES))
def test_a_bad_structure_is_refused_whole_with_its_place_named(runner, tmp_path, case):
    (old, new), message = BAD_STRUCTURES[case]
    assert old in STRUCTURE
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, STRUCTURE.replace(old, new, 1)))
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "nothing was changed" in result.output
    assert table_fingerprint() == before


BAD_VOLUMES = {
    "bad number": (
        "acme,messaging,customer,1200,16000",
        "acme,messaging,customer,12O0,16000",
        "volumes.csv:2: data_subjects: '12O0' is not a whole number >= 0",
    ),
    "negative number": (
        "globex,messaging,prospect,300,900",
        "globex,messaging,prospect,300,-9",
        "volumes.csv:3: records: '-9' is not a whole number >= 0",
    ),
    "missing column": (
        "customer,activity,data_subject_category,data_subjects,records",
        "customer,activity,data_subject_category,data_subjects",
        "volumes.csv:1: header: missing column(s) records",
    ),
    "unknown customer": (
        "globex,messaging",
        "initech,messaging",
        "volumes.csv:3: customer: unknown customer 'initech'",
    ),
    "unknown activity": (",prospects,", ",prospecting,", "volumes.csv:4: activity: unknown activity 'prospecting'"),
    "undeclared subject": (
        "globex,messaging,prospect",
        "globex,messaging,employee",
        ("volumes.csv:3: data_subject_category: 'employee' is not a data subject category of activity 'messaging'"),
    ),
    "customer on a controller activity": (",prospects,", "acme,prospects,", "volumes.csv:4: customer: must be empty"),
    "duplicate row": (
        "globex,messaging,prospect,300,900",
        "acme,messaging,customer,1,1",
        "volumes.csv:3: row: duplicate of line 2",
    ),
    "short row": (
        ",prospects,prospect,5000,5200",
        ",prospects,prospect,5000",
        "volumes.csv:4: row: expected 5 columns",
    ),
    "count past a trillion": (
        "globex,messaging,prospect,300,900",
        "globex,messaging,prospect,300,9223372036854775808",
        "volumes.csv:3: records: must be at most 1,000,000,000,000",
    ),
    "count int() cannot read": (
        "globex,messaging,prospect,300,900",
        "globex,messaging,prospect," + "9" * 5000 + ",900",
        "volumes.csv:3: data_subjects: must be at most 1,000,000,000,000",
    ),
    "digits that are not ASCII": (
        "globex,messaging,prospect,300,900",
        "globex,messaging,prospect,3²,900",
        "volumes.csv:3: data_subjects: '3²' is not a whole number >= 0",
    ),
}


@pytest.mark.parametrize("case", BAD_VOLUMES, ids=list(BAD_VOLUMES))
def test_a_bad_volume_file_is_refused_whole_with_its_line_named(runner, tmp_path, case):
    old, new, message = BAD_VOLUMES[case]
    assert old in VOLUMES
    run_import(runner, write(tmp_path))
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, volumes=VOLUMES.replace(old, new, 1).replace("1200,16000", "1,2")))
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert table_fingerprint() == before


def test_a_refused_volume_file_leaves_nothing_behind_for_the_next_import(app, tmp_path):
    """Through the service, on the same pooled connection, as the API and the upload page use it."""
    import_inventory(("inventory.yaml", STRUCTURE.replace("volumes: volumes.csv\n", "")))
    db.session.commit()
    for volumes in (VOLUMES.replace("1200,16000", "ten,16000"), VOLUMES.replace("acme,", "nobody,")):
        data = volumes.encode()
        with pytest.raises(ValidationFailed):
            import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
        db.session.rollback()
    data = VOLUMES.encode()
    summary = import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    db.session.commit()
    assert summary.created["volume rows"] == 3
    assert db.session.scalar(select(func.count()).select_from(Volume)) == 3


BILLION_LAUGHS = (
    "format: breachdesk-inventory/1\n"
    "lol: &lol [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    "lol2: &lol2 [*lol, *lol, *lol, *lol, *lol, *lol, *lol, *lol, *lol]\n"
    + "".join(f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 9)}]\n" for n in range(3, 10))
)


def test_yaml_aliases_are_refused_before_they_expand(runner, tmp_path):
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, structure=BILLION_LAUGHS))
    assert result.exit_code == 1 and "inventory.yaml:3: syntax: aliases (*lol) are not accepted" in result.output
    assert table_fingerprint() == before


def test_a_structure_file_with_too_many_values_is_refused_naming_the_line(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(fileformat, "MAX_NODES", 20)
    result = run_import(runner, write(tmp_path))
    assert result.exit_code == 1 and "size: more than 20 values" in result.output
    # values: the top mapping, format and its value, customers, their list, acme's mapping and its five fields'
    # keys and values (lines 3-7), contacts (line 8), the contacts list, its first mapping, `role`, then `dpo`,
    # the 21st (line 9)
    assert "inventory.yaml:9: size: more than 20 values" in result.output


def test_a_file_in_the_wrong_encoding_is_refused(runner, tmp_path):
    volumes = VOLUMES + "acmé,messaging,customer,1,1\n"
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, volumes=volumes, encoding="latin-1"))
    assert result.exit_code == 1 and "volumes.csv:" in result.output and "encoding: not UTF-8" in result.output
    assert table_fingerprint() == before


def test_a_late_error_undoes_rows_already_staged(runner, tmp_path):
    """Rows reach the database in batches; an error after several batches must still leave nothing."""
    customers = "\n".join(f"  - {{key: c{i:05d}, name: Customer {i}, country: FR}}" for i in range(12000))
    path = write(tmp_path, STRUCTURE.replace("customers:\n", "customers:\n" + customers + "\n", 1))
    assert run_import(runner, path).exit_code == 0
    many = tmp_path / "many.csv"
    with many.open("w") as out:
        out.write("customer,activity,data_subject_category,data_subjects,records\n")
        for i in range(12000):
            out.write(f"c{i:05d},messaging,customer,{i},{i * 3}\n")
        out.write("c00001,messaging,prospect,ten,10\n")
    before = table_fingerprint()
    result = run_import(runner, path, "--volumes", str(many))
    assert result.exit_code == 1 and "many.csv:12002: data_subjects: 'ten'" in result.output
    assert table_fingerprint() == before
    assert db.session.scalar(select(func.count()).select_from(Volume)) == 3


def test_validate_reports_without_changing_anything(runner, tmp_path):
    path = write(tmp_path)
    before = table_fingerprint()
    result = runner.invoke(args=["inventory", "validate", str(path)])
    assert result.exit_code == 0 and "valid: would give 2 customers created" in result.output
    assert table_fingerprint() == before
    bad = write(tmp_path, volumes=VOLUMES.replace("1200", "x"))
    assert runner.invoke(args=["inventory", "validate", str(bad)]).exit_code == 1
    assert table_fingerprint() == before


FIDES_MANIFEST = textwrap.dedent("""\
    system:
      - fides_key: analytics_platform
        name: Analytics platform
        description: Product analytics
        system_type: Service
        responsibility: [Processor]
        meta: {hosting_country: US, hosting_region: us-east-1}
        privacy_declarations:
          - name: Usage analytics
            data_categories: [user.device.ip_address, user.behavior.browsing_history]
            data_use: analytics.reporting
            data_subjects: [customer]
            retention_period: "395"
      - fides_key: crm
        name: CRM
        system_type: Application
        responsibility: [Controller]
        privacy_declarations:
          - name: Prospection
            data_categories: [user.contact.email, user.name]
            data_use: marketing.communications.email
            data_subjects: [prospect]
            legal_basis_for_processing: Consent
    """)


def test_a_fides_manifest_becomes_systems_and_activities(runner, tmp_path):
    path = tmp_path / "fides.yml"
    path.write_text(FIDES_MANIFEST)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    activities = {a.key: a for a in db.session.scalars(select(ProcessingActivity))}
    usage = activities["analytics-platform.usage-analytics"]
    assert (usage.role, usage.retention_days, [s.key for s in usage.systems]) == (
        "processor",
        395,
        ["analytics-platform"],
    )
    assert usage.systems[0].hosting_country == "US"
    prospection = activities["crm.prospection"]
    assert (prospection.role, prospection.legal_basis) == ("controller", "consent")
    assert sorted(c.data_category for c in prospection.data_categories) == ["user.contact.email", "user.name"]


def test_an_invalid_fides_manifest_names_the_system_and_field(runner, tmp_path):
    path = tmp_path / "fides.yml"
    path.write_text(FIDES_MANIFEST.replace("user.contact.email, user.name", "user.contact.emial"))
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert (
        "fides.yml:14: system[crm].privacy_declarations[Prospection].data_categories: "
        "'user.contact.emial' is not a data category" in result.output
    )


@pytest.mark.parametrize(
    "period, message",
    [
        (
            "2147483648",
            "fides.yml:2: system[analytics_platform].privacy_declarations[Usage analytics]"
            ".retention_period: must be at most 36,500",
        ),
        ("9" * 5000, "retention_period: must be at most 36,500"),
    ],
)
def test_a_fides_retention_period_past_a_century_is_refused_naming_it(runner, tmp_path, period, message):
    path = tmp_path / "fides.yml"
    path.write_text(FIDES_MANIFEST.replace('retention_period: "395"', f'retention_period: "{period}"'))
    before = table_fingerprint()
    result = run_import(runner, path)
    assert result.exit_code == 1 and message in result.output, result.output
    assert table_fingerprint() == before


def test_a_fides_retention_period_in_words_is_a_note(runner, tmp_path):
    path = tmp_path / "fides.yml"
    path.write_text(FIDES_MANIFEST.replace('retention_period: "395"', 'retention_period: "3²"'))
    assert run_import(runner, path).exit_code == 0
    usage = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key.like("analytics%")))
    assert (usage.retention_days, usage.retention_note) == (None, "3²")


def test_a_missing_volumes_file_named_by_the_structure_is_an_error(runner, tmp_path):
    path = write(tmp_path, STRUCTURE.replace("volumes: volumes.csv", "volumes: nowhere.csv"))
    before = table_fingerprint()
    result = run_import(runner, path)
    assert result.exit_code == 1 and "inventory.yaml:?: volumes: no such file" in result.output
    assert table_fingerprint() == before


def test_customer_statuses_are_imported_exported_and_default_to_false(app, runner, tmp_path):
    structure = STRUCTURE.replace("    language: fr\n", "    language: fr\n    hipaa_covered_entity: true\n", 1)
    structure = structure.replace("    country: GB\n", "    country: GB\n    financial_entity: true\n", 1)
    assert run_import(runner, write(tmp_path, structure)).exit_code == 0
    statuses = db.session.execute(
        select(Customer.key, Customer.hipaa_covered_entity, Customer.financial_entity).order_by(Customer.key)
    ).all()
    assert statuses == [("acme", True, False), ("globex", False, True)]
    assert runner.invoke(args=["inventory", "export", str(tmp_path / "out")]).exit_code == 0
    exported = (tmp_path / "out" / "inventory.yaml").read_text()
    assert "hipaa_covered_entity: true" in exported and "financial_entity: true" in exported
    # a file that does not say is a customer without the status, as for every field with a default
    assert run_import(runner, write(tmp_path)).exit_code == 0
    db.session.expire_all()
    assert not any(db.session.scalars(select(Customer.hipaa_covered_entity)))
