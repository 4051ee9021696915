"""The architecture: imports run one way along the flow (the import-linter contracts in pyproject.toml), and
every signal where the flow turns back (breachdesk/core/signals.py) has a domain acting on it."""

import subprocess
import sys
from pathlib import Path

from blinker import Signal

from breachdesk.core import signals

ROOT = Path(__file__).resolve().parents[2]


def test_no_import_runs_back_up_the_flow():
    """Imports inside functions count too; the report names the import that broke a contract."""
    lint = subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), "--config", "pyproject.toml", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_signal_where_the_flow_turns_back_has_a_receiver(app):
    sent = {name: signal for name, signal in vars(signals).items() if isinstance(signal, Signal)}
    assert sent
    assert [name for name, signal in sent.items() if not signal.receivers] == []
