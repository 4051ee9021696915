"""Where the people of a volume row live: one row per (customer, activity, data subject category, region), a file
without the column read as before, every bad region refused naming file, line and field with nothing imported."""

import pytest
from sqlalchemy import select

from breachdesk.extensions import db
from breachdesk.inventory.models import Customer, ProcessingActivity, Volume
from tests.conftest import clean_tables, table_fingerprint
from tests.inventory.test_import_export import VOLUMES, run_import, write

REGIONAL = (
    "customer,activity,data_subject_category,region,data_subjects,records\n"
    "acme,messaging,customer,,1200,16000\n"
    "acme,messaging,customer,US-TX,40,400\n"
    "acme,messaging,customer, us-ca ,30,300\n"
    "acme,messaging,prospect,unknown,5,5\n"
    "globex,messaging,prospect,GB,300,900\n"
    ",prospects,prospect,,5000,5200\n"
    ",prospects,prospect,BR-SP,12,12\n"
)


def stored_rows() -> list[tuple]:
    return db.session.execute(
        select(Customer.key, ProcessingActivity.key, Volume.data_subject_category, Volume.region, Volume.data_subjects)
        .join(Volume.activity)
        .outerjoin(Volume.customer)
        .order_by(ProcessingActivity.key, Customer.key, Volume.data_subject_category, Volume.region)
    ).all()


def test_each_region_is_a_row_of_its_own_and_an_empty_cell_is_the_default_region(runner, tmp_path):
    result = run_import(runner, write(tmp_path, volumes=REGIONAL))
    assert result.exit_code == 0, result.output
    assert "7 volume rows created" in result.output
    assert stored_rows() == [
        ("acme", "messaging", "customer", "", 1200),  # the customer's country, as before the column existed
        ("acme", "messaging", "customer", "US-CA", 30),  # read in its canonical spelling
        ("acme", "messaging", "customer", "US-TX", 40),
        ("acme", "messaging", "prospect", "unknown", 5),
        ("globex", "messaging", "prospect", "GB", 300),
        (None, "prospects", "prospect", "", 5000),  # our own people: the organisation's country
        (None, "prospects", "prospect", "BR-SP", 12),
    ]


def test_a_file_without_the_region_column_imports_as_before_and_regions_come_beside_it(runner, tmp_path):
    result = run_import(runner, write(tmp_path, volumes=VOLUMES))
    assert result.exit_code == 0 and "3 volume rows created" in result.output
    assert [row[3] for row in stored_rows()] == ["", "", ""]
    result = run_import(runner, write(tmp_path, volumes=REGIONAL))
    # the rows in the default region are the same rows; each stated region is a row of its own beside them
    assert "5 volume rows created" in result.output and "updated" not in result.output, result.output
    assert ("globex", "messaging", "prospect", "", 300) in stored_rows()


def test_a_changed_count_in_one_region_updates_that_row_alone(runner, tmp_path):
    assert run_import(runner, write(tmp_path, volumes=REGIONAL)).exit_code == 0
    result = run_import(runner, write(tmp_path, volumes=REGIONAL.replace("US-TX,40,400", "US-TX,45,450")))
    assert result.exit_code == 0 and "1 volume rows updated" in result.output and "created" not in result.output
    assert ("acme", "messaging", "customer", "US-TX", 45) in stored_rows()
    assert ("acme", "messaging", "customer", "", 1200) in stored_rows()


def test_the_export_writes_the_region_and_imports_back_the_same(app, runner, tmp_path):
    assert run_import(runner, write(tmp_path, volumes=REGIONAL)).exit_code == 0
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["inventory", "export", str(first)]).exit_code == 0
    exported = (first / "volumes.csv").read_text().splitlines()
    assert exported[0] == "customer,activity,data_subject_category,region,data_subjects,records"
    assert "acme,messaging,customer,US-TX,40,400" in exported and "acme,messaging,customer,,1200,16000" in exported
    rows = stored_rows()
    clean_tables()
    assert run_import(runner, first / "inventory.yaml").exit_code == 0
    assert stored_rows() == rows
    assert runner.invoke(args=["inventory", "export", str(second)]).exit_code == 0
    assert (second / "volumes.csv").read_text() == (first / "volumes.csv").read_text()


BAD_REGIONS = {
    "a country ISO 3166-1 does not know": (
        "US-TX,40",
        "XX,40",
        "volumes.csv:3: region: 'XX': 'XX' is not an ISO 3166-1 alpha-2 country",
    ),
    "a code that is no code": (
        "US-TX,40",
        "Texas,40",
        "volumes.csv:3: region: 'Texas' is not an ISO 3166-1 alpha-2 country (FR) or ISO 3166-2 subdivision (US-TX), "
        "nor 'unknown'",
    ),
    "a subdivision ISO 3166-2 does not list": (
        "US-TX,40",
        "US-ZZ,40",
        "volumes.csv:3: region: 'US-ZZ': 'ZZ' is not an ISO 3166-2 subdivision of United States (US)",
    ),
    "a subdivision of another country than its code names": (
        "BR-SP,12",
        "BR-TX,12",
        "volumes.csv:8: region: 'BR-TX': 'TX' is not an ISO 3166-2 subdivision of Brazil (BR)",
    ),
    "a subdivision of a country that does not exist": (
        "BR-SP,12",
        "QQ-SP,12",
        "volumes.csv:8: region: 'QQ-SP': 'QQ' is not an ISO 3166-1 alpha-2 country",
    ),
    "a NUL character in the region": (
        "US-TX,40",
        "US-\x00TX,40",
        "volumes.csv:3: region: contains a NUL character",
    ),
    "the same region twice": (
        "globex,messaging,prospect,GB",
        "acme,messaging,customer,US-TX",
        "volumes.csv:6: row: duplicate of line 3 (same customer, activity, data subject category and region; 2 rows",
    ),
    "a negative count": ("US-TX,40,400", "US-TX,-40,400", "volumes.csv:3: data_subjects: '-40' is not a whole number"),
    "a count with a fraction": ("US-TX,40,400", "US-TX,40,400.5", "volumes.csv:3: records: '400.5' is not a whole"),
    "a short row": ("acme,messaging,customer,US-TX,40,400", "acme,messaging,customer,US-TX,40", "expected 6 columns"),
}


@pytest.mark.parametrize("case", BAD_REGIONS, ids=list(BAD_REGIONS))
def test_a_bad_row_in_a_file_with_regions_is_refused_naming_file_line_and_field(runner, tmp_path, case):
    old, new, message = BAD_REGIONS[case]
    assert old in REGIONAL
    assert run_import(runner, write(tmp_path, volumes=VOLUMES)).exit_code == 0
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, volumes=REGIONAL.replace(old, new, 1)))
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert table_fingerprint() == before


def test_a_bad_region_and_a_bad_count_on_one_line_are_both_named(runner, tmp_path):
    result = run_import(runner, write(tmp_path, volumes=REGIONAL.replace("US-TX,40,400", "US-ZZ,40,lots")))
    assert result.exit_code == 1
    named = [line for line in result.output.splitlines() if line.startswith("volumes.csv:")]
    assert named == [
        "volumes.csv:3: region: 'US-ZZ': 'ZZ' is not an ISO 3166-2 subdivision of United States (US)",
        "volumes.csv:3: records: 'lots' is not a whole number >= 0",
    ]
