"""`make run` (= `tovholder up`): starts everything, says where it is, and Ctrl-C stops every
process it started, leaving no orphan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from contracts.topics import SERVICES
from tovholder.infra import free_port

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> set[int]:
    """All processes below ``pid`` (from /proc), including those in their own sessions."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def command_line(pid: int) -> str:
    try:
        return " ".join(Path(f"/proc/{pid}/cmdline").read_text().split("\0"))[:120]
    except OSError:
        return f"{pid} (gone)"


def test_up_starts_everything_and_ctrl_c_leaves_no_orphan(tmp_path):
    ports = {s: free_port() for s in (*SERVICES, "portal")}
    env = {**os.environ, "TOVHOLDER_STATE_DIR": str(tmp_path / "state"), "TOVHOLDER_PG_PORT": str(free_port()),
           "TOVHOLDER_KAFKA_PORT": str(free_port()), **{f"TOVHOLDER_{s.upper()}_PORT": str(p) for s, p in ports.items()}}
    up = subprocess.Popen([sys.executable, "-m", "tovholder.cli", "up"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    # Everything `up` says is read all along (a pipe nobody reads can block the writer), and kept for
    # the failure message.
    output: list[str] = []
    running = threading.Event()

    def read_all() -> None:
        for line in up.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line:
                running.set()

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    try:
        running.wait(timeout=60)
        text = "".join(output)
        assert "Tovholder is running" in text, text
        for service, port in ports.items():
            assert f"http://127.0.0.1:{port}" in text
            assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        spawned = descendants(up.pid)
        assert len(spawned) >= 7  # PostgreSQL, Tansu, four services, the portal (plus PostgreSQL's own workers)

        up.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            code = up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            still = sorted(command_line(p) for p in descendants(up.pid) if alive(p))
            raise AssertionError("`tovholder up` did not stop within 60 s of Ctrl-C; it said:\n"
                                 + "".join(output[-30:]) + "\nstill running:\n" + "\n".join(still)) from None
        assert code == 0, "".join(output[-30:])
        reader.join(timeout=5)
        rest = "".join(output)
        assert "Stopped: services, Tansu and PostgreSQL." in rest  # the default broker
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(p) for p in spawned):
            time.sleep(0.2)
        assert not [p for p in spawned if alive(p)], "processes outlived `tovholder up`"
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        for pid in descendants(up.pid):
            os.kill(pid, signal.SIGKILL)
