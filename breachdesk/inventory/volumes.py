"""Volume rows from a CSV, through temporary tables, checked and written by set-based statements.

Python splits the file into rows, numbers their lines and checks what a row says on its own (its width, no NUL
character, which PostgreSQL text cannot hold, whole numbers for the counts, an ISO code for its region); each row
goes to the table `volume_lines` as soon as it is read: psycopg's COPY on PostgreSQL, executemany in batches on
SQLite. What needs the database is then one statement each: the keys resolved into `volume_staging` (a line whose
customer, activity or subject category is unknown or does not fit resolves to nothing, and only then are such lines
looked up again to be worded by the rules a form's row meets, `check_volume_row`), duplicates refused, customers
linked, and the rows written to `volumes` by INSERT ... SELECT and UPDATE ... FROM. Memory holds a batch of rows and
at most MAX_PROBLEMS problems, whatever the size of the file.
"""

import csv
import hashlib
import io
from collections.abc import Iterator
from itertools import islice
from operator import itemgetter
from typing import IO, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    not_,
    or_,
    select,
    text,
    update,
)

from breachdesk.core.progress import Progress
from breachdesk.extensions import db
from breachdesk.inventory import fileformat as ff
from breachdesk.inventory.models import (
    ActivitySubjectCategory,
    Customer,
    OurRole,
    ProcessingActivity,
    Volume,
    activity_customers,
)
from breachdesk.inventory.regions import MAX_LENGTH, parse_region
from breachdesk.inventory.rules import subject_category_problem

#: rows per executemany on SQLite
BATCH = 5000
#: steps of the second progress bar: resolve, duplicates, links, write
STEPS = 4


class LineProblems:
    """Problems found while reading and then by SQL, reported in line order as if one pass had found them."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str, str]] = []

    def add(self, _file: str, line: int, where: str, message: str) -> None:
        self.found.append((line, where, message))

    def __len__(self) -> int:
        return len(self.found)

    def raise_if_any(self, file: str) -> None:
        problems = ff.Problems()
        for line, where, message in sorted(self.found, key=itemgetter(0)):
            problems.add(file, line, where, message)
        problems.raise_if_any()


class _CountingReader(io.RawIOBase):
    """Counts and hashes bytes as the CSV reader consumes them, for the progress bar and the audit."""

    def __init__(self, raw: IO[bytes], progress: Progress):
        self.raw, self.progress, self.sha256 = raw, progress, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.sha256.update(data)
        self.progress.advance(len(data))
        return len(data)


def _lines_table() -> Table:
    """The rows as the file writes them, with the line each ends on: keys without blanks around them, the region
    in its canonical spelling ("" where the file states none), counts read."""
    return Table(
        "volume_lines",
        MetaData(),
        Column("line", Integer, nullable=False),
        Column("customer", Text, nullable=False),
        Column("activity", Text, nullable=False),
        Column("data_subject_category", Text, nullable=False),
        Column("region", Text, nullable=False),
        Column("data_subjects", BigInteger, nullable=False),
        Column("records", BigInteger, nullable=False),
        prefixes=["TEMPORARY"],
    )


def _staging_table() -> Table:
    """The rows resolved: ids for keys."""
    return Table(
        "volume_staging",
        MetaData(),
        Column("line", Integer, nullable=False),
        Column("customer_id", Integer),
        Column("activity_id", Integer, nullable=False),
        Column("data_subject_category", String(120), nullable=False),
        Column("region", String(MAX_LENGTH), nullable=False),
        Column("data_subjects", BigInteger, nullable=False),
        Column("records", BigInteger, nullable=False),
        prefixes=["TEMPORARY"],
    )


def import_volumes(stream: IO[bytes], file: str, size: int, progress: Progress, summary) -> str:
    """Stage, check and write volume rows, counting them into `summary`; returns the file's sha256."""
    connection = db.session.connection()
    lines, staging = _lines_table(), _staging_table()
    for table in (lines, staging):
        # A temporary table lives as long as its pooled connection, and SQLite creates it outside the transaction
        # a refused import rolls back: whatever an earlier import on this connection left goes first.
        table.drop(connection, checkfirst=True)
        table.create(connection)
    counter = _CountingReader(stream, progress)
    decoded = io.TextIOWrapper(io.BufferedReader(counter, buffer_size=1 << 16), encoding="utf-8-sig", newline="")
    problems = LineProblems()
    progress.start("volumes   ", size)
    try:
        staged = _stage(connection, lines, read_rows(decoded, problems))
    finally:
        progress.finish()
    progress.start("writing   ", STEPS)
    try:
        if _resolve(connection, lines, staging) < staged:
            for row in connection.execute(_unresolved_lines(lines)):
                _word_problems(row, file, problems)
        problems.raise_if_any(file)
        progress.advance(1)
        created, updated = _write(connection, staging, file, progress)
    finally:
        progress.finish()
    summary.created["volume rows"], summary.updated["volume rows"] = created, updated
    staging.drop(connection)
    lines.drop(connection)
    return counter.sha256.hexdigest()


def read_rows(text: IO[str], problems: LineProblems) -> Iterator[tuple]:
    """(line, customer, activity, data_subject_category, region, data_subjects, records) of each row: keys without
    the blanks around them, the region parsed ("" in a file without the column), counts as numbers. A row of the
    wrong shape, with a bad count or region, or a file that cannot be read on, goes to `problems` instead."""
    reader = csv.reader(text)
    #: each region cell read so far, as the file spells it, in its canonical spelling: a file names few regions
    regions: dict[str, str] = {}
    line = 1  # of the last row read whole
    try:
        header = next(reader, [])
        missing = [c for c in ff.VOLUME_COLUMNS if c not in header]
        if missing:
            expected = ",".join(ff.VOLUME_COLUMNS)
            problems.add("", 1, "header", f"missing column(s) {', '.join(missing)}; expected {expected}")
            return
        columns = ff.VOLUME_COLUMNS + ((ff.REGION_COLUMN,) if ff.REGION_COLUMN in header else ())
        positions = [header.index(c) for c in columns]
        pick, shortest = itemgetter(*positions), max(positions) + 1
        for row in reader:
            line = reader.line_num
            if shortest <= len(row) <= len(header):
                if staged := _row_values(columns, pick(row), line, problems, regions):
                    yield staged
            elif row:  # a blank line is no row
                problems.add("", line, "row", f"expected {len(columns)} columns")
            if len(problems) > ff.MAX_PROBLEMS:
                return  # more than can be listed
    except UnicodeDecodeError as error:
        where = f"{error.reason} at byte {error.start} of a block"
        problems.add("", line + 1, "encoding", f"not UTF-8 text ({where})")
    except csv.Error as error:
        problems.add("", line + 1, "csv", str(error))


def _row_values(
    columns: tuple[str, ...], values: tuple[str, ...], line: int, problems: LineProblems, regions: dict[str, str]
) -> tuple | None:
    """(line, customer, activity, data_subject_category, region, data_subjects, records) to stage, or None with the
    row's problems in `problems`. `values` are those of `columns`: the region last, when the file has the column;
    `regions` holds the region cells read before, parsed."""
    customer, activity, subject, subjects, records, *stated = values
    if "\x00" in "".join(values):  # PostgreSQL text cannot hold one
        for name, value in zip(columns, values, strict=True):
            if "\x00" in value:
                problems.add("", line, name, "contains a NUL character")
        return None
    cell = stated[0].strip() if stated else ""  # blanks are no part of a value: a bounded set of spellings
    region = regions.get(cell)
    if region is None and (region := _region(cell, "", line, problems)) is not None:
        regions[cell] = region
    subjects_count, records_count = count_of(subjects), count_of(records)
    if region is None or subjects_count is None or records_count is None:
        _count(subjects, "", line, "data_subjects", problems)
        _count(records, "", line, "records", problems)
        return None
    return line, customer.strip(), activity.strip(), subject.strip(), region, subjects_count, records_count


#: digits of a count that is below MAX_COUNT whatever they are
PLAIN_DIGITS = len(str(ff.MAX_COUNT)) - 1


def count_of(text: str) -> int | None:
    """The whole number `text` writes, or None where fileformat.count_problem finds a problem. Plain digits, which
    nearly every row has, are read without the full check."""
    if len(text) <= PLAIN_DIGITS and text.isdigit() and text.isascii():
        return int(text)
    return None if ff.count_problem(text, ff.MAX_COUNT) else int(text)


def _stage(connection: Connection, table: Table, rows: Iterator[tuple]) -> int:
    """Each row goes to `table` as it is read: psycopg's COPY on PostgreSQL, executemany in batches on SQLite.
    Returns the number of rows staged."""
    names = [c.name for c in table.columns]
    staged = 0
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    staged += 1
        return staged
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    while batch := list(islice(rows, BATCH)):
        connection.exec_driver_sql(statement, batch)
        staged += len(batch)
    return staged


def _lines_with_their_keys(lines: Table, *columns):
    """`columns` of each line beside what its keys name: its activity, customer and declared subject category."""
    activity, customer = ProcessingActivity.__table__, Customer.__table__
    declared = ActivitySubjectCategory.__table__
    return (
        select(*columns)
        .select_from(lines)
        .outerjoin(activity, activity.c.key == lines.c.activity)
        .outerjoin(customer, customer.c.key == lines.c.customer)
        .outerjoin(
            declared,
            and_(
                declared.c.activity_id == activity.c.id,
                declared.c.data_subject_category == lines.c.data_subject_category,
            ),
        )
    )


def _keys_fit(lines: Table) -> Any:
    """SQL: the line's keys name an activity, a subject category declared on it and, for a processor activity, a
    customer (none for a controller activity): what check_volume_row asks of them. Never NULL."""
    activity, customer = ProcessingActivity.__table__, Customer.__table__
    declared = ActivitySubjectCategory.__table__
    return and_(
        activity.c.id.is_not(None),
        declared.c.activity_id.is_not(None),
        or_(
            and_(activity.c.role == OurRole.PROCESSOR, customer.c.id.is_not(None)),
            and_(activity.c.role == OurRole.CONTROLLER, lines.c.customer == ""),
        ),
    )


def _resolve(connection: Connection, lines: Table, staging: Table) -> int:
    """Stage each line whose keys fit, with ids for its keys; returns how many did."""
    activity, customer = ProcessingActivity.__table__, Customer.__table__
    rows = _lines_with_their_keys(
        lines,
        lines.c.line,
        customer.c.id,
        activity.c.id,
        lines.c.data_subject_category,
        lines.c.region,
        lines.c.data_subjects,
        lines.c.records,
    ).where(_keys_fit(lines))
    return _rows_written(connection, insert(staging).from_select([c.name for c in staging.columns], rows))


def _rows_written(connection: Connection, statement) -> int:
    """Run an INSERT ... SELECT or UPDATE; the rows it wrote (SQLAlchemy keeps an INSERT's count only when asked)."""
    return connection.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def _unresolved_lines(lines: Table):
    """The first lines whose keys do not fit, with what the database knows of them."""
    activity, customer = ProcessingActivity.__table__, Customer.__table__
    declared = ActivitySubjectCategory.__table__
    return (
        _lines_with_their_keys(
            lines,
            lines,
            activity.c.id.label("activity_id"),
            activity.c.role,
            customer.c.id.label("customer_id"),
            declared.c.activity_id.label("declared"),
        )
        .where(not_(_keys_fit(lines)))
        .order_by(lines.c.line)
        .limit(ff.MAX_PROBLEMS + 1)
    )


def _word_problems(row, file: str, problems: LineProblems) -> None:
    """The words for a line whose keys do not fit: check_volume_row, told what the database found."""
    activities = {row.activity: (row.activity_id, row.role)} if row.activity_id is not None else {}
    customers = {row.customer: row.customer_id} if row.customer_id is not None else {}
    declared = {(row.activity_id, row.data_subject_category)} if row.declared is not None else set()
    values = {name: str(getattr(row, name)) for name in (*ff.VOLUME_COLUMNS, ff.REGION_COLUMN)}
    check_volume_row(values, file, row.line, customers, activities, declared, problems)


def check_volume_row(row, file, line, customers, activities, declared, problems) -> dict[str, Any] | None:
    """One row's problems, in the order a person fixes them; or its values, resolved by the given lookups."""
    if None in row or any(row.get(c) is None for c in ff.VOLUME_COLUMNS):
        problems.add(file, line, "row", f"expected {len(ff.VOLUME_COLUMNS)} columns")
        return None
    activity = activities.get(row["activity"].strip())
    if activity is None:
        problems.add(file, line, "activity", f"unknown activity {row['activity']!r}")
        return None
    activity_id, role = activity
    customer_key = row["customer"].strip()
    customer_id = None
    if role == OurRole.PROCESSOR:
        customer_id = customers.get(customer_key)
        if customer_id is None:
            problems.add(
                file,
                line,
                "customer",
                f"unknown customer {customer_key!r}"
                if customer_key
                else "required: the activity is a processor activity",
            )
            return None
    elif customer_key:
        problems.add(file, line, "customer", "must be empty: the activity is a controller activity")
        return None
    subject = row["data_subject_category"].strip()
    problem = subject_category_problem(subject)
    if problem is None and (activity_id, subject) not in declared:
        problem = f"{subject!r} is not a data subject category of activity {row['activity']!r}"
    if problem:
        problems.add(file, line, "data_subject_category", problem)
        return None
    region = _region(row.get(ff.REGION_COLUMN) or "", file, line, problems)
    subjects = _count(row["data_subjects"], file, line, "data_subjects", problems)
    records = _count(row["records"], file, line, "records", problems)
    if region is None or subjects is None or records is None:
        return None
    return {
        "line": line,
        "customer_id": customer_id,
        "activity_id": activity_id,
        "data_subject_category": subject,
        "region": region,
        "data_subjects": subjects,
        "records": records,
    }


def _region(text: str, file: str, line: int, problems) -> str | None:
    """The region a cell states in its canonical spelling ("" for none: the default region), or None with its
    problem."""
    try:
        return parse_region(text)
    except ValueError as error:
        problems.add(file, line, ff.REGION_COLUMN, str(error))
        return None


def _count(text: str, file: str, line: int, column: str, problems) -> int | None:
    if problem := ff.count_problem(text, ff.MAX_COUNT):
        problems.add(file, line, column, problem)
        return None
    return int(text)


# --- writing ---------------------------------------------------------------------------------


def _write(connection: Connection, staging: Table, file: str, progress: Progress) -> tuple[int, int]:
    """Refuse duplicates, link customers and write the resolved rows; returns (created, updated)."""
    # Temporary tables get no automatic statistics: without them PostgreSQL plans nested loops over 10^12 pairs.
    connection.execute(text(f"ANALYZE {staging.name}"))
    _refuse_duplicates(connection, staging, file)
    progress.advance(1)
    _link_customers(connection, staging)  # first: a customer's volume row needs its link
    progress.advance(1)
    counts = _merge(connection, staging)
    progress.advance(1)
    return counts


def _refuse_duplicates(connection: Connection, staging: Table, file: str) -> None:
    keys = [staging.c.customer_id, staging.c.activity_id, staging.c.data_subject_category, staging.c.region]
    duplicates = connection.execute(
        select(func.min(staging.c.line), func.max(staging.c.line), func.count())
        .group_by(*keys)
        .having(func.count() > 1)
        .order_by(func.min(staging.c.line))
        .limit(ff.MAX_PROBLEMS)
    ).all()
    if duplicates:
        problems = ff.Problems()
        for first, last, count in duplicates:
            problems.add(
                file,
                last,
                "row",
                f"duplicate of line {first} (same customer, activity, data subject category and region; "
                f"{count} rows in all)",
            )
        problems.raise_if_any()


def _merge(connection: Connection, staging: Table) -> tuple[int, int]:
    """Update changed volume rows, then insert new ones, leaving equal ones alone. Returns (created, updated).

    New rows are the staged rows EXCEPT those `volumes` holds once the changed ones are updated, never an
    anti-join of `volumes` with itself: on a table seen as empty when the statement was planned, as a first import
    finds it, PostgreSQL may scan it once per staged row while the statement fills it."""
    volumes = Volume.__table__
    updated = 0
    # Rows with and without a customer are matched separately: plain equalities let both databases use
    # the unique indexes (or hash joins), where an "equal or both NULL" condition would force nested loops.
    for own in (False, True):
        matches = and_(
            staging.c.activity_id == volumes.c.activity_id,
            staging.c.data_subject_category == volumes.c.data_subject_category,
            staging.c.region == volumes.c.region,
            and_(staging.c.customer_id.is_(None), volumes.c.customer_id.is_(None))
            if own
            else staging.c.customer_id == volumes.c.customer_id,
        )
        changed = and_(
            matches, or_(volumes.c.data_subjects != staging.c.data_subjects, volumes.c.records != staging.c.records)
        )
        updated += _rows_written(
            connection,
            update(volumes).where(changed).values(data_subjects=staging.c.data_subjects, records=staging.c.records),
        )
    columns = ["customer_id", "activity_id", "data_subject_category", "region", "data_subjects", "records"]
    new = select(*[staging.c[c] for c in columns]).except_(select(*[volumes.c[c] for c in columns]))
    return _rows_written(connection, insert(volumes).from_select(columns, new)), updated


def _link_customers(connection: Connection, staging: Table) -> None:
    """A volume row for a customer is evidence that we process its data in that activity (and the
    database refuses the row without the link). The missing links are found with EXCEPT, as new rows are."""
    pairs = select(staging.c.activity_id, staging.c.customer_id).where(staging.c.customer_id.is_not(None))
    missing = pairs.except_(select(activity_customers.c.activity_id, activity_customers.c.customer_id))
    connection.execute(insert(activity_customers).from_select(["activity_id", "customer_id"], missing))
