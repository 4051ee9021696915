"""Volume rows through the staging tables: every problem named by file, line and field in line order whichever
pass finds it, nothing changed by a refused file, and the SQL checks agreeing with the rules a form's row meets."""

import io
import tracemalloc

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from breachdesk.core.errors import ValidationFailed
from breachdesk.extensions import db
from breachdesk.inventory import fileformat
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import ActivitySubjectCategory, Customer, ProcessingActivity, Volume
from breachdesk.inventory.volumes import check_volume_row, count_of
from tests.conftest import table_fingerprint
from tests.inventory.test_import_export import STRUCTURE, VOLUMES, run_import, write

HEADER = "customer,activity,data_subject_category,data_subjects,records\n"
#: customers c00000 ... of the many-customer inventory below
CUSTOMERS = 3000


@pytest.fixture
def many(runner, tmp_path):
    """The test inventory with CUSTOMERS more customers, imported with its three volume rows."""
    listed = "\n".join(f"  - {{key: c{i:05d}, name: Customer {i}, country: FR}}" for i in range(CUSTOMERS))
    path = write(tmp_path, STRUCTURE.replace("customers:\n", "customers:\n" + listed + "\n", 1))
    assert run_import(runner, path).exit_code == 0
    return path


def good_rows(count: int, records_per_subject: int = 3) -> list[str]:
    """`count` valid rows of the many-customer inventory, each (customer, subject category) once."""
    return [
        f"c{i % CUSTOMERS:05d},messaging,{('customer', 'prospect')[i // CUSTOMERS]},{i},{i * records_per_subject}\n"
        for i in range(count)
    ]


def import_csv(runner, path, tmp_path, rows: list[str], name="volumes-big.csv"):
    volumes = tmp_path / name
    volumes.write_text(HEADER + "".join(rows), encoding="utf-8")
    return run_import(runner, path, "--volumes", str(volumes))


def test_bad_rows_anywhere_in_a_large_file_are_named_in_line_order_and_change_nothing(runner, tmp_path, many):
    rows = good_rows(6000)
    rows[0] = "c00000,messaging,customer,12O0,1\n"  # line 2: a count (found while reading)
    rows[1500] = "c00001,messaging\n"  # line 1502: the row's shape (found while reading)
    rows[2999] = "nobody,messaging,customer,1,1\n"  # line 3001: a key (found by SQL)
    rows[4000] = "c00002,messaging,employee,1,1\n"  # line 4002
    rows[5000] = "c00003,messaging,customer,1\x002,1\n"  # line 5002: a NUL (found while reading)
    rows[5998] = ",messaging,prospect,1,1\n"  # line 6000
    rows[5999] = "c00004,messagerie,customer,1,1\n"  # line 6001, the last
    before = table_fingerprint()
    result = import_csv(runner, many, tmp_path, rows)
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith("volumes-big.csv:")] == [
        "volumes-big.csv:2: data_subjects: '12O0' is not a whole number >= 0",
        "volumes-big.csv:1502: row: expected 5 columns",
        "volumes-big.csv:3001: customer: unknown customer 'nobody'",
        "volumes-big.csv:4002: data_subject_category: 'employee' is not a data subject category of activity "
        "'messaging'",
        "volumes-big.csv:5002: data_subjects: contains a NUL character",
        "volumes-big.csv:6000: customer: required: the activity is a processor activity",
        "volumes-big.csv:6001: activity: unknown activity 'messagerie'",
    ]
    assert table_fingerprint() == before


def test_an_unknown_customer_on_the_last_line_leaves_every_row_as_it_was(runner, tmp_path, many):
    assert import_csv(runner, many, tmp_path, good_rows(4000)).exit_code == 0
    before = table_fingerprint()
    changed = [*good_rows(4000, records_per_subject=5), "c99999,messaging,customer,1,1\n"]
    result = import_csv(runner, many, tmp_path, changed, name="changed.csv")
    assert result.exit_code == 1
    assert "changed.csv:4002: customer: unknown customer 'c99999'" in result.output
    assert table_fingerprint() == before


def test_more_problems_than_can_be_listed_are_the_first_in_line_order(runner, tmp_path, many):
    """Reading stops after the problems it can list (here on line 404); those SQL finds among them still come in
    their place."""
    rows = good_rows(1000)
    for index in range(0, 1000, 2):
        rows[index] = "c00001,messaging\n" if index % 4 else "nobody,messaging,customer,1,1\n"
    result = import_csv(runner, many, tmp_path, rows)
    named = [line for line in result.output.splitlines() if line.startswith("volumes-big.csv:")]
    assert len(named) == fileformat.MAX_PROBLEMS
    assert named[:2] == [
        "volumes-big.csv:2: customer: unknown customer 'nobody'",
        "volumes-big.csv:4: row: expected 5 columns",
    ]
    assert named[-1] == "volumes-big.csv:200: row: expected 5 columns"
    assert "... further problems not listed" in result.output


@pytest.mark.parametrize("column", ["customer", "activity", "data_subject_category", "data_subjects", "records"])
def test_a_nul_character_in_a_volume_row_is_refused_naming_line_and_column(runner, tmp_path, column):
    """PostgreSQL text cannot hold one: the row never reaches the database, on either."""
    path = write(tmp_path)
    assert run_import(runner, path).exit_code == 0
    row = dict(zip(fileformat.VOLUME_COLUMNS, ["globex", "messaging", "prospect", "300", "900"], strict=True))
    row[column] = row[column][:1] + "\x00" + row[column][1:]
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, volumes=VOLUMES + ",".join(row.values()) + "\n"))
    assert result.exit_code == 1
    assert f"volumes.csv:5: {column}: contains a NUL character" in result.output
    assert table_fingerprint() == before


def test_a_field_past_the_csv_readers_limit_is_refused_naming_its_line(runner, tmp_path):
    path = write(tmp_path)
    assert run_import(runner, path).exit_code == 0
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, volumes=VOLUMES + "acme," + "m" * 200_000 + ",customer,1,1\n"))
    assert result.exit_code == 1
    assert "volumes.csv:5: csv: field larger than field limit (131072)" in result.output
    assert table_fingerprint() == before


def test_a_long_key_within_the_readers_limit_is_an_unknown_key_on_its_line(runner, tmp_path):
    path = write(tmp_path)
    assert run_import(runner, path).exit_code == 0
    before = table_fingerprint()
    result = run_import(runner, write(tmp_path, volumes=VOLUMES + "acme," + "m" * 100_000 + ",customer,1,1\n"))
    assert result.exit_code == 1 and "volumes.csv:5: activity: unknown activity 'mmm" in result.output
    assert table_fingerprint() == before


def test_blanks_around_values_are_ignored(runner, tmp_path):
    spaced = VOLUMES.replace("acme,messaging,customer,1200,16000", " acme\t, messaging ,customer , 1200 ,\t16000")
    result = run_import(runner, write(tmp_path, volumes=spaced))
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Volume.records).where(Volume.data_subjects == 1200)) == 16000


def test_a_blank_line_is_no_row(runner, tmp_path):
    result = run_import(runner, write(tmp_path, volumes=VOLUMES.replace("\nglobex", "\n\nglobex") + "\n\n"))
    assert result.exit_code == 0, result.output
    assert "3 volume rows created" in result.output


def test_extra_columns_are_read_past_and_columns_may_come_in_any_order(runner, tmp_path):
    volumes = (
        "records,note,customer,activity,data_subject_category,data_subjects\n"
        "16000,,acme,messaging,customer,1200\n"
        "900,second,globex,messaging,prospect,300\n"
        "5200,,,prospects,prospect,5000\n"
        "1,,acme,messaging,prospect,1,too many\n"
    )
    result = run_import(runner, write(tmp_path, volumes=volumes))
    assert result.exit_code == 1 and "volumes.csv:5: row: expected 5 columns" in result.output
    result = run_import(runner, write(tmp_path, volumes=volumes.rsplit("1,,acme", 1)[0]))
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.sum(Volume.records))) == 16000 + 900 + 5200


# Counts are read as each row is (volumes.count_of), through a shortcut for plain digits: it must take exactly what
# fileformat.count_problem accepts, as the number it writes.
COUNT_TEXT = st.text(alphabet=st.sampled_from("0123456789 \t-+.,_eE²٣x"), max_size=18)


@given(COUNT_TEXT)
@example("999999999999")
@example("1000000000000")
@example("1000000000001")
@example("0" * 40 + "1")
@example(" 12 ")
@example("")
@example("1_000")
def test_a_count_is_read_as_count_problem_accepts_it(value):
    expected = int(value) if fileformat.count_problem(value, fileformat.MAX_COUNT) is None else None
    assert count_of(value) == expected


# Keys are checked by SQL (a line stages only if its keys resolve) and worded by check_volume_row: for every kind of
# key, the import must refuse a line exactly when, and with the words with which, the rules for one row refuse it.
CUSTOMER_KEYS = {"known customer": "acme", "unknown customer": "initech", "no customer": ""}
ACTIVITY_KEYS = {"processor activity": "messaging", "controller activity": "prospects", "unknown activity": "mail"}
SUBJECT_KEYS = {"declared subject": "prospect", "undeclared subject": "employee", "no such subject": "martian"}


@pytest.mark.parametrize("subject", SUBJECT_KEYS)
@pytest.mark.parametrize("activity", ACTIVITY_KEYS)
@pytest.mark.parametrize("customer", CUSTOMER_KEYS)
def test_a_line_is_refused_exactly_when_and_as_the_rules_for_one_row_refuse_it(app, customer, activity, subject):
    import_inventory(("inventory.yaml", STRUCTURE.replace("volumes: volumes.csv\n", "")))
    db.session.commit()
    keys = (CUSTOMER_KEYS[customer], ACTIVITY_KEYS[activity], SUBJECT_KEYS[subject])
    expected = fileformat.Problems()
    check_volume_row(
        dict(zip(fileformat.VOLUME_COLUMNS, (*keys, "7", "9"), strict=True)),
        "volumes.csv",
        2,
        dict(db.session.execute(select(Customer.key, Customer.id)).all()),
        {a.key: (a.id, a.role) for a in db.session.scalars(select(ProcessingActivity))},
        set(
            db.session.execute(
                select(ActivitySubjectCategory.activity_id, ActivitySubjectCategory.data_subject_category)
            ).all()
        ),
        expected,
    )
    data = (HEADER + ",".join(keys) + ",7,9\n").encode()
    try:
        import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
        refused = []
    except ValidationFailed as error:
        refused = error.problems
    assert refused == expected.items


def test_a_refused_file_then_a_good_one_on_one_connection_both_import_their_rows_only(app):
    """The temporary tables of a refused import are gone before the next one makes its own."""
    import_inventory(("inventory.yaml", STRUCTURE.replace("volumes: volumes.csv\n", "")))
    db.session.commit()
    for volumes in (VOLUMES + "acme,messaging,customer,1,1\n", VOLUMES + "acme,messaging\n"):
        data = volumes.encode()
        with pytest.raises(ValidationFailed):
            import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
        db.session.rollback()
    data = VOLUMES.encode()
    summary = import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    db.session.commit()
    assert summary.created["volume rows"] == 3 and summary.updated["volume rows"] == 0
    assert db.session.scalar(select(func.count()).select_from(Volume)) == 3


def test_the_memory_an_import_takes_does_not_grow_with_its_rows(runner, tmp_path, many):
    """Rows stream from the file to the staging tables: Python holds two batches of them at most, so four times the
    rows (each file past those two batches) take no more memory."""
    peaks = {}
    for count in (30_000, 120_000):
        rows = [f"c{i % CUSTOMERS:05d},messaging,customer,{i},{i}\n" for i in range(CUSTOMERS)]
        data = (HEADER + "".join(rows * (count // CUSTOMERS))).encode()
        tracemalloc.start()
        with pytest.raises(ValidationFailed, match="duplicate of line 2"):  # read, staged and resolved, not written
            import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
        peaks[count] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        db.session.rollback()
    assert peaks[120_000] < 1.1 * peaks[30_000], peaks
