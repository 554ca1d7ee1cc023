"""`tovholder up` (Tansu, the default) heals itself, as an operator would try it: a killed service is
restarted alone while the others keep running; the broker killed halfway through a stream of
hospital notices comes back empty, and still every notice becomes exactly one task in the
tovholder's work queue, with no manual step; PostgreSQL killed comes back too."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest

from contracts.topics import SERVICES
from tests.e2e.test_up import alive, descendants
from tovholder.auth import issue_dev_token
from tovholder.demo import demo_data
from tovholder.infra import free_port
from tovholder.settings import Settings

pytestmark = pytest.mark.e2e

NOTICES = int(os.environ.get("TOVHOLDER_SELF_HEALING_NOTICES", "500"))
RATE_PER_S = 20.0
PARTNER_ORG = "SOR:1234567"


@dataclass
class Up:
    """A running `tovholder up` and what it printed."""

    process: subprocess.Popen
    state_dir: Path
    ports: dict[str, int]
    pg_port: int
    console: list[str] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{database}"

    def pid_of(self, matches: Callable[[list[str]], bool]) -> int:
        """The one live process below `tovholder up` whose command line matches."""
        found = []
        for pid in descendants(self.process.pid):
            try:
                argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().rstrip("\0").split("\0")
            except OSError:
                continue
            if alive(pid) and matches(argv):
                found.append(pid)
        assert len(found) == 1, f"expected one matching process, found {found}"
        return found[0]

    def service_pid(self, service: str) -> int:
        return self.pid_of(lambda argv: argv[-2:] == ["serve", service] and "tovholder.cli" in argv)

    def said(self, pattern: str) -> bool:
        return any(re.search(pattern, line) for line in self.console)


class LogWatch:
    """Lines the services log from now on that an ordinary outage must not cause: ERROR or worse,
    or anything with a traceback."""

    def __init__(self, up: Up) -> None:
        self.files = {s: up.state_dir / "logs" / f"{s}.log" for s in SERVICES}
        self.offsets = {s: f.stat().st_size for s, f in self.files.items()}

    def problems(self) -> list[str]:
        found = []
        for service, path in self.files.items():
            with path.open("rb") as log:
                log.seek(self.offsets[service])
                for raw in log:
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        found.append(f"{service}: not a JSON log line: {raw[:200]!r}")
                        continue
                    if entry.get("level") in ("ERROR", "CRITICAL") or "exc" in entry:
                        found.append(f"{service}: {entry.get('level')} {entry.get('logger')}: {entry.get('msg')}"
                                     + (" (with a traceback)" if "exc" in entry else ""))
        return found


def wait_for(check: Callable[[], object], timeout: float, message: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} within {timeout:.0f}s (last: {last!r})")


def ready(up: Up, service: str) -> bool:
    try:
        return httpx.get(f"{up.url(service)}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    state = tmp_path_factory.mktemp("self-healing")
    ports = {s: free_port() for s in SERVICES}
    pg_port = free_port()
    env = {**os.environ, "TOVHOLDER_STATE_DIR": str(state), "TOVHOLDER_PG_PORT": str(pg_port),
           "TOVHOLDER_KAFKA_PORT": str(free_port()), "TOVHOLDER_BROKER": "tansu", "TOVHOLDER_ENVIRONMENT": "test",
           **{f"TOVHOLDER_{s.upper()}_PORT": str(p) for s, p in ports.items()}}
    process = subprocess.Popen([sys.executable, "-m", "tovholder.cli", "up"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    stack = Up(process, state, ports, pg_port)

    def read_console() -> None:
        for line in process.stdout:
            stack.console.append(line.rstrip("\n"))

    threading.Thread(target=read_console, daemon=True).start()
    try:
        wait_for(lambda: stack.said("Ctrl-C stops everything") or process.poll() is not None, 120, "stack started")
        assert stack.said("Tovholder is running"), "\n".join(stack.console)
        yield stack
    finally:
        spawned = descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid in spawned:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_killed_service_is_restarted_alone_while_the_others_keep_running(up: Up):
    others = {s: up.service_pid(s) for s in SERVICES if s != "notifications"}
    victim = up.service_pid("notifications")
    os.kill(victim, signal.SIGKILL)

    wait_for(lambda: up.said(r"notifications stopped \(killed by SIGKILL\); restarting it in 1s"), 10,
             "the console says the service stopped and will be restarted")
    while not up.said("notifications restarted"):  # meanwhile the others go on serving
        for service in others:
            assert httpx.get(f"{up.url(service)}/healthz", timeout=2).status_code == 200
        time.sleep(0.2)
    wait_for(lambda: ready(up, "notifications"), 60, "the restarted service is ready")
    assert up.service_pid("notifications") != victim
    assert {s: up.service_pid(s) for s in others} == others, "only the dead service was restarted"
    assert up.process.poll() is None, "tovholder up kept running"

    # Dying again soon after a restart backs off further.
    os.kill(up.service_pid("notifications"), signal.SIGKILL)
    wait_for(lambda: up.said(r"notifications stopped \(killed by SIGKILL\); restarting it in 2s"), 10,
             "a second crash waits longer")
    wait_for(lambda: ready(up, "notifications"), 60, "the service is ready again")


async def count_tasks(up: Up, run_tag: str) -> tuple[int, int, int]:
    """(notices of this run in health, notices with a task in notifications, tasks in excess)."""
    health = await asyncpg.connect(up.dsn("health"))
    try:
        notice_ids = {str(r["id"]) for r in await health.fetch(
            "SELECT id FROM hospital_notice WHERE hospital_episode_id LIKE $1", f"{run_tag}-%")}
    finally:
        await health.close()
    notifications = await asyncpg.connect(up.dsn("notifications"))
    try:
        rows = await notifications.fetch(
            "SELECT links FROM task WHERE kind = 'accompany-admission' AND links IS NOT NULL")
    finally:
        await notifications.close()
    tasks_per_notice: dict[str, int] = {}
    for row in rows:
        links = json.loads(row["links"]) if isinstance(row["links"], str) else row["links"]
        for link in links:
            if link.startswith("hospital-notice:") and link.split(":", 1)[1] in notice_ids:
                tasks_per_notice[link.split(":", 1)[1]] = tasks_per_notice.get(link.split(":", 1)[1], 0) + 1
    return len(notice_ids), len(tasks_per_notice), sum(n - 1 for n in tasks_per_notice.values())


async def send_notices(up: Up, run_tag: str, count: int, *, at_half: Callable[[], None]) -> list[int]:
    """Admissions (STIN, each its own hospital episode) for demo citizens with a tovholder, paced;
    a 503 receipt is retried as the partner contract says. Returns the receipt statuses seen."""
    settings = Settings(state_dir=up.state_dir)
    partner = {"Authorization": "Bearer " + issue_dev_token(settings, role="partner", sub="e2e-epj", org=PARTNER_ORG)}
    citizens = [c for c in demo_data()["citizens"] if c.get("tovholder_sub")]
    statuses: list[int] = []
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=up.url("health"), timeout=10) as http:
        for i in range(count):
            if i == count // 2:
                at_half()
            citizen = citizens[i % len(citizens)]
            body = {"message_id": str(uuid.uuid4()), "sent_at": datetime.now(timezone.utc).isoformat(),
                    "sender": {"org": PARTNER_ORG, "name": "Psykiatrisk Center København"}, "code": "STIN",
                    "cpr": citizen["cpr"], "hospital_episode_id": f"{run_tag}-{i}", "department": "Afsnit P2",
                    "occurred_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(),
                    "replaces_message_id": None}
            for _attempt in range(20):
                response = await http.post("/integration/v1/hospital-notifications", json=body, headers=partner)
                statuses.append(response.status_code)
                if response.status_code != 503:
                    break
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            assert response.status_code == 202, f"notice {i}: {response.status_code} {response.text}"
            await asyncio.sleep(max(0.0, started + (i + 1) / RATE_PER_S - time.perf_counter()))
    return statuses


async def test_hospital_notices_all_become_tasks_when_the_broker_restarts_halfway(up: Up):
    run_tag = f"E2E-{uuid.uuid4().hex[:6]}"
    tansu = up.pid_of(lambda argv: argv[0].endswith("tansu") and "broker" in argv)
    killed_at: list[float] = []

    def kill_broker() -> None:
        os.kill(tansu, signal.SIGKILL)
        killed_at.append(time.monotonic())

    logs = LogWatch(up)
    started = time.monotonic()
    statuses = await send_notices(up, run_tag, NOTICES, at_half=kill_broker)
    sent_at = time.monotonic()

    deadline = time.monotonic() + 90
    counted = (0, 0, 0)
    while time.monotonic() < deadline:
        counted = await count_tasks(up, run_tag)
        if counted[1] >= NOTICES:
            break
        await asyncio.sleep(0.5)
    done_at = time.monotonic()
    notices, with_task, excess = counted
    print(f"\nself-healing: {NOTICES} notices at {RATE_PER_S:.0f}/s, Tansu killed after {NOTICES // 2}: "
          f"{notices} stored, {with_task} with a task, {excess} duplicate tasks; "
          f"receipts {sum(1 for s in statuses if s == 202)}×202 {sum(1 for s in statuses if s == 503)}×503; "
          f"sending took {sent_at - started:.1f}s, last task {done_at - sent_at:.1f}s after the last notice, "
          f"{done_at - killed_at[0]:.1f}s after the kill")
    assert notices == NOTICES
    assert with_task == NOTICES, f"{NOTICES - with_task} notices never became a task"
    assert excess == 0, "a notice became more than one task"

    assert up.said(r"Tansu stopped \(killed by SIGKILL\); restarting it in 1s")
    assert up.said("Tansu restarted")
    for service in SERVICES:
        metrics = httpx.get(f"{up.url(service)}/metrics", timeout=5).text
        changes = re.search(rf'tovholder_broker_cluster_changes_total{{service="{service}"}} (\S+)', metrics)
        assert changes and float(changes.group(1)) >= 1, f"{service} did not notice the new broker"
    assert "tovholder_consumer_lag{" in httpx.get(f"{up.url('notifications')}/metrics", timeout=5).text
    assert all(ready(up, s) for s in SERVICES)
    assert not logs.problems(), "\n".join(logs.problems()[:20])


async def test_postgres_killed_is_restarted_and_the_services_recover(up: Up):
    postmaster = up.pid_of(lambda argv: argv[0].endswith("/postgres") and "-D" in argv)
    logs = LogWatch(up)
    os.kill(postmaster, signal.SIGKILL)
    wait_for(lambda: up.said(r"PostgreSQL stopped \(killed by SIGKILL\)"), 10, "the console says PostgreSQL stopped")
    wait_for(lambda: up.said("PostgreSQL restarted"), 60, "PostgreSQL restarted")
    wait_for(lambda: all(ready(up, s) for s in SERVICES), 60, "every service ready again")

    run_tag = f"E2E-PG-{uuid.uuid4().hex[:6]}"
    await send_notices(up, run_tag, 3, at_half=lambda: None)

    async def all_tasks() -> bool:
        return (await count_tasks(up, run_tag))[1] == 3
    deadline = time.monotonic() + 30
    while not await all_tasks():
        assert time.monotonic() < deadline, "notices after the PostgreSQL restart did not become tasks"
        await asyncio.sleep(0.3)
    assert not logs.problems(), "\n".join(logs.problems()[:20])


def test_sigterm_stops_everything_including_what_was_restarted(up: Up):
    """Last in this module (it ends the stack): the processes restarted above are stopped too."""
    spawned = descendants(up.process.pid)
    restarted = {up.service_pid("notifications"), up.pid_of(lambda argv: argv[0].endswith("tansu") and "broker" in argv),
                 up.pid_of(lambda argv: argv[0].endswith("/postgres") and "-D" in argv)}
    assert restarted <= spawned
    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(timeout=60) == 0
    wait_for(lambda: up.said("Stopped: services, Tansu and PostgreSQL."), 10, "the console says everything stopped")
    wait_for(lambda: not [p for p in spawned if alive(p)], 15, "every process it started is gone")
