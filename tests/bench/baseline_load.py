"""Baseline for the import benchmark: the bare cost of loading volumes.csv into a plain table.

    python tests/bench/baseline_load.py DATABASE_URL VOLUMES_CSV [--method executemany|copy]

`executemany`: csv module + SQLAlchemy Core inserts in batches of 5,000 (dict rows, as the importer
stages them), all in one transaction. `copy` (PostgreSQL only): the file streamed through
`COPY ... FROM STDIN (FORMAT csv, HEADER)`, no Python parsing at all.

The table `bench_baseline_volumes` has the five CSV columns, no key, index or constraint; it is
dropped before and after. Prints, as JSON, the rows loaded (read back with COUNT(*)) and the
seconds from BEGIN to COMMIT.
"""

import argparse
import csv
import json
import sys
import time

from sqlalchemy import BigInteger, Column, MetaData, String, Table, create_engine, func, insert, select

BATCH = 5000
TABLE = "bench_baseline_volumes"


def _table() -> Table:
    return Table(
        TABLE,
        MetaData(),
        Column("customer", String(64)),
        Column("activity", String(64)),
        Column("data_subject_category", String(120)),
        Column("data_subjects", BigInteger),
        Column("records", BigInteger),
    )


def load_executemany(connection, table: Table, path: str) -> None:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # header
        batch = []
        for customer, activity, subject, subjects, records in reader:
            batch.append(
                {
                    "customer": customer or None,
                    "activity": activity,
                    "data_subject_category": subject,
                    "data_subjects": int(subjects),
                    "records": int(records),
                }
            )
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                batch.clear()
        if batch:
            connection.execute(insert(table), batch)


def load_copy(connection, path: str) -> None:
    cursor = connection.connection.driver_connection.cursor()
    with open(path, "rb") as handle, cursor.copy(f"COPY {TABLE} FROM STDIN (FORMAT csv, HEADER true)") as copy:
        while block := handle.read(1 << 20):
            copy.write(block)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("csv")
    parser.add_argument("--method", choices=("executemany", "copy"), default="executemany")
    args = parser.parse_args()
    engine = create_engine(args.url)
    table = _table()
    table.drop(engine, checkfirst=True)
    table.create(engine)
    try:
        start = time.perf_counter()
        with engine.begin() as connection:  # one transaction
            if args.method == "copy":
                if engine.dialect.name != "postgresql":
                    parser.error("--method copy needs PostgreSQL")
                load_copy(connection, args.csv)
            else:
                load_executemany(connection, table, args.csv)
        load_seconds = time.perf_counter() - start
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        table.drop(engine, checkfirst=True)
        engine.dispose()
    print(json.dumps({"rows": rows, "load_seconds": round(load_seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
