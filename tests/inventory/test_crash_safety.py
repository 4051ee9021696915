"""A process killed in the middle of an import leaves the database exactly as it was."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from breachdesk.audit.services import verify_chain
from breachdesk.extensions import db
from breachdesk.inventory.models import Volume
from tests.conftest import table_fingerprint
from tests.inventory.test_import_export import STRUCTURE, write

ROWS = 600_000


def test_killing_an_import_midway_changes_nothing(app, runner, migrated, tmp_path):
    customers = 2000
    listed = "\n".join(f"  - {{key: c{i:05d}, name: C {i}, country: FR}}" for i in range(customers))
    path = write(tmp_path, STRUCTURE.replace("customers:\n", "customers:\n" + listed + "\n", 1))
    assert runner.invoke(args=["inventory", "import", str(path)]).exit_code == 0
    before = table_fingerprint()

    # Rows the importer cannot finish quickly: every row is distinct until the duplicates at the end,
    # so the process is killed while it still holds an open transaction with staged rows.
    volumes = tmp_path / "big.csv"
    with volumes.open("w") as out:
        out.write("customer,activity,data_subject_category,data_subjects,records\n")
        for i in range(customers):
            for subject in ("customer", "prospect"):
                out.write(f"c{i:05d},messaging,{subject},{i},{i}\n")
        for _ in range(ROWS // (customers * 2)):
            for i in range(customers):
                out.write(f"c{i:05d},messaging,customer,1,1\n")
    env = {**os.environ, "BREACHDESK_DATABASE_URL": migrated, "BREACHDESK_INSTANCE_PATH": str(tmp_path / "inst"),
           "BREACHDESK_SECRET_KEY": "test"}
    command = [str(Path(sys.executable).parent / "breachdesk"), "inventory", "import", str(path),
               "--volumes", str(volumes)]
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        started = time.monotonic()
        seen = b""
        while b"volumes" not in seen and time.monotonic() - started < 60:
            seen += os.read(process.stderr.fileno(), 4096)
        time.sleep(1.0)  # well inside the volume stage
        assert process.poll() is None, "the import finished before it could be killed: make the file bigger"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    db.session.rollback()
    db.session.expire_all()
    assert table_fingerprint() == before
    assert verify_chain(db.session)[1] == []
    # the database is usable at once: the same import, without the duplicates, now succeeds
    result = runner.invoke(args=["inventory", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Volume)) == 3
