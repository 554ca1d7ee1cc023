"""The local infrastructure never outlives whoever started it, even a process killed with SIGKILL
(a test run hitting its time limit, a `tovholder up` killed from another terminal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

STARTER = """
import os, sys, time
from pathlib import Path
from tovholder.infra import EmbeddedPostgres, Tansu
base = Path(sys.argv[1])
pg = EmbeddedPostgres(base / "pgdata"); pg.start()
broker = Tansu(); broker.start()
print(pg.process.pid, broker.process.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def test_postgres_and_broker_die_with_a_killed_parent(tmp_path):
    base = tmp_path / "infra"
    base.mkdir()
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(base)], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[3])
    try:
        pids = [int(p) for p in starter.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        starter.send_signal(signal.SIGKILL)
        starter.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.1)
        assert not [p for p in pids if alive(p)], "PostgreSQL or Tansu outlived the killed process"
    finally:
        if starter.poll() is None:
            starter.kill()
        for pid in pids if "pids" in locals() else []:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
