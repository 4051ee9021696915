"""A process killed in the middle of an import leaves the database exactly as it was."""

import errno
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
from tests.conftest import AUDIT_KEY, table_fingerprint
from tests.inventory.test_import_export import STRUCTURE, write

#: rows written before the kill: ten of the importer's staging batches, far more than its buffers hold
ROWS = 50_000
#: seconds before the test gives up waiting: only a guard against hanging
GUARD = 300


def opened_for_writing(fifo: Path, reader: subprocess.Popen) -> int:
    """The write end of `fifo`, once `reader` has opened it (opening it blocking would hang if it never did)."""
    deadline = time.monotonic() + GUARD
    while True:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:  # ENXIO: nobody reads it yet
            if error.errno != errno.ENXIO:
                raise
            assert reader.poll() is None, reader.stderr.read().decode()
            assert time.monotonic() < deadline, "the importer never opened its volumes file"
            time.sleep(0.05)
        else:
            os.set_blocking(descriptor, True)
            return descriptor


def test_killing_an_import_midway_changes_nothing(app, runner, migrated, tmp_path):
    customers = 2000
    listed = "\n".join(f"  - {{key: c{i:05d}, name: C {i}, country: FR}}" for i in range(customers))
    path = write(tmp_path, STRUCTURE.replace("customers:\n", "customers:\n" + listed + "\n", 1))
    assert runner.invoke(args=["inventory", "import", str(path)]).exit_code == 0
    before = table_fingerprint()

    # The volumes file is a pipe we write into and never close while the importer lives: it reads and stages
    # rows, then waits for more, its transaction open, until it is killed. No timing decides where it stands.
    volumes = tmp_path / "volumes-pipe.csv"
    os.mkfifo(volumes)
    rows = "".join(f"c{i % customers:05d},messaging,customer,{i},{i}\n" for i in range(ROWS))
    env = {
        **os.environ,
        "BREACHDESK_DATABASE_URL": migrated,
        "BREACHDESK_INSTANCE_PATH": str(tmp_path / "inst"),
        "BREACHDESK_SECRET_KEY": "test",
        "BREACHDESK_AUDIT_KEY": AUDIT_KEY,
    }
    command = [
        str(Path(sys.executable).parent / "breachdesk"),
        "inventory",
        "import",
        str(path),
        "--volumes",
        str(volumes),
    ]
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        with open(opened_for_writing(volumes, process), "wb") as pipe:
            # returns once the importer has read all but what the pipe and its reader buffer (some 140 KB)
            pipe.write(("customer,activity,data_subject_category,data_subjects,records\n" + rows).encode())
            pipe.flush()
            assert process.poll() is None, process.stderr.read().decode()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=GUARD)
    assert process.returncode == -signal.SIGKILL

    db.session.rollback()
    db.session.expire_all()
    assert table_fingerprint() == before
    assert verify_chain(db.session)[1] == []
    # the database is usable at once: the structure with its own volumes file now imports
    result = runner.invoke(args=["inventory", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Volume)) == 3
