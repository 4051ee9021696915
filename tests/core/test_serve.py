"""`breachdesk serve` really serves (Flask ignores app.run() inside its CLI, so this is worth a test)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def test_serve_answers_on_its_port(migrated, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "BREACHDESK_DATABASE_URL": migrated, "BREACHDESK_INSTANCE_PATH": str(tmp_path)}
    command = [str(Path(sys.executable).parent / "breachdesk"), "serve", "--port", str(port)]
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
        try:
            deadline = time.monotonic() + 120  # a guard against hanging: a busy machine starts slowly
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                        assert response.status == 200
                        break
                except OSError:
                    assert server.poll() is None, "breachdesk serve exited"
                    assert time.monotonic() < deadline, "breachdesk serve did not answer"
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=60)
