"""Start the whole system locally: PostgreSQL, a broker (Tansu by default, or Apache Kafka), topics,
migrations, demo data, the four services and (when it has a port) the portal as separate processes.
`tovholder up` and the end-to-end tests both use this."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from contracts.topics import SERVICES
from tovholder.apache_kafka import ApacheKafka
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics, die_with_parent, free_port
from tovholder.migrations import upgrade
from tovholder.settings import Settings


async def seed_demo(database_urls: dict[str, str], settings: Settings) -> None:
    """Load the demo data into each service's database through its own `demo.seed` (idempotent)."""
    from tovholder.cpr import CprVault
    from tovholder.db import create_engine, session_factory
    from tovholder.demo import demo_data
    from tovholder.uow import UnitOfWork

    vault = CprVault(settings)
    for service, url in database_urls.items():
        try:
            module = importlib.import_module(f"services.{service}.demo")
        except ModuleNotFoundError:
            continue
        engine = create_engine(settings.model_copy(update={"database_url": url, "service": service}), pool_size=2)
        try:
            async with UnitOfWork(session_factory(engine), service=service) as uow:
                await module.seed(uow, demo_data(), vault)
        finally:
            await engine.dispose()


RESTART_BACKOFF_INITIAL_S = 1.0
RESTART_BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0  # a part that ran this long since its restart starts its backoff afresh
BROKER_RECORD = "broker.json"  # when the broker last started (for `tovholder replay`'s default --since)


@dataclass
class _Part:
    """Supervision state of one process the stack runs."""

    started_at: float = field(default_factory=time.monotonic)
    failures: int = 0
    restart_at: float | None = None


def exit_reason(process: subprocess.Popen | None) -> str:
    code = None if process is None else process.returncode
    if code is None:
        return "exited"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def read_broker_record(state_dir: Path) -> dict | None:
    try:
        return json.loads((state_dir / BROKER_RECORD).read_text())
    except (OSError, ValueError):
        return None


def record_broker_start(state_dir: Path, broker: str, bootstrap: str, cluster_id: str | None) -> None:
    """Note that the local broker (re)started now, keeping the previous start."""
    record = read_broker_record(state_dir) or {}
    (state_dir / BROKER_RECORD).write_text(json.dumps({
        "broker": broker, "storage": "memory" if broker == "tansu" else "disk", "bootstrap": bootstrap,
        "cluster_id": cluster_id, "started_at": datetime.now(timezone.utc).isoformat(),
        "previous_started_at": record.get("started_at"),
    }, indent=2))


def replay_since_default(state_dir: Path) -> datetime | None:
    """Where `tovholder replay` starts by default: the run of the local broker whose data may be
    gone. An in-memory broker (Tansu) restarted empty: its previous run's start; otherwise (not
    restarted, or Apache Kafka, whose log is on disk) the current run's start. None when
    `tovholder up` has not recorded a broker in ``state_dir``."""
    record = read_broker_record(state_dir)
    if not record:
        return None
    value = record.get("previous_started_at") if record.get("storage") == "memory" else None
    return datetime.fromisoformat(value or record["started_at"])


async def republish_for_an_empty_broker(previous: dict | None,
                                        database_urls: dict[str, str]) -> tuple[datetime | None, int]:
    """A Tansu just started holds nothing. What the previous run of the local broker (``previous``,
    its record) was given may not all have been consumed when it stopped: mark everything published
    since that run started for publishing again (consumers are idempotent). Returns (since, how many)."""
    from tovholder.outbox import replay

    if not previous:
        return None, 0
    since = datetime.fromisoformat(previous["started_at"])
    return since, sum([await replay(url, since) for url in database_urls.values()])


@dataclass
class LocalStack:
    """PostgreSQL, a broker and the four services, each a process of its own.

    ``supervise()`` (called about twice a second by `tovholder up`) notices a part that died and
    restarts that part alone, with backoff — never the whole stack. A restarted Tansu is empty: the
    topics are created again at once, and every service's outbox relay notices the new cluster id
    and replays (tovholder.outbox); consumers rejoin their groups and start from the earliest
    offset. ``stop()`` stops whatever is running at that moment."""

    state_dir: Path
    ports: dict[str, int]
    pg_port: int | None = None
    kafka_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the service processes
    load_demo: bool = True
    broker: str = "tansu"  # or "kafka": Apache Kafka from Maven Central (needs Java 17+)
    say: Callable[[str], None] = field(default=lambda line: print(line, flush=True))  # the console
    pg: EmbeddedPostgres = field(init=False)
    kafka: Tansu | ApacheKafka = field(init=False)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.logs = self.state_dir / "logs"
        self.pg = EmbeddedPostgres(self.state_dir / "pgdata", port=self.pg_port, log_file=self.logs / "postgres.log")
        if self.broker == "kafka":
            # On disk under the state directory: topics and offsets survive a restart.
            self.kafka = ApacheKafka(data_dir=self.state_dir / "kafka", log_file=self.logs / "kafka.log",
                                     **({"port": self.kafka_port} if self.kafka_port else {}))
        elif self.broker == "tansu":
            self.kafka = Tansu(port=self.kafka_port, log_file=self.logs / "tansu.log")
        else:
            raise ValueError(f"unknown broker {self.broker!r}: tansu or kafka")
        self._parts: dict[str, _Part] = {}

    @property
    def processes(self) -> tuple[str, ...]:
        """The processes with a port: the four services, and the portal when ``ports`` names it."""
        return (*SERVICES, *(("portal",) if "portal" in self.ports else ()))

    @property
    def broker_name(self) -> str:
        return "Apache Kafka" if self.broker == "kafka" else "Tansu"

    def database_url(self, service: str) -> str:
        return self.pg.url(service)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, ready_timeout: float = 60) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg.start()
        for service in self.processes:
            self.pg.ensure_database(service)
        previous = read_broker_record(self.state_dir)
        self._start_broker()
        for service in self.processes:
            upgrade(service, self.database_url(service))
        if self.broker == "tansu":
            since, replayed = asyncio.run(republish_for_an_empty_broker(
                previous, {s: self.database_url(s) for s in SERVICES}))
            if replayed:
                self.say(f"Republishing {replayed} events published since {since.isoformat(timespec='seconds')} "
                         f"(the previous {self.broker_name} kept them in memory only).")
        settings = Settings(state_dir=self.state_dir, **self._cpr_keys())
        if self.load_demo:
            asyncio.run(seed_demo({s: self.database_url(s) for s in SERVICES}, settings))
        for service in self.processes:
            self._start_service(service)
        self._parts = {name: _Part() for name in ("PostgreSQL", self.broker_name, *self.processes)}
        self.wait_ready(ready_timeout)

    def _start_broker(self) -> None:
        """Start the broker and create the topics before any service can publish to it."""
        self.kafka.start()
        try:
            # A restarted Tansu is empty; a client that got there first may have made a topic of
            # its own shape: replace it (the outboxes replay whatever it held).
            asyncio.run(create_topics(self.kafka.bootstrap, replace_short=self.broker == "tansu"))
        except BaseException:
            self.kafka.stop()  # a broker without its topics must not look healthy to the supervisor
            raise
        record_broker_start(self.state_dir, self.broker, self.kafka.bootstrap, getattr(self.kafka, "cluster_id", None))

    def start_replica(self, service: str, ready_timeout: float = 60) -> str:
        """One more process of ``service`` beside the first (``health#2``, …), on a port of its own, with
        the same database and consumer group, as another pod of the service would run; returns its URL
        once ready. For benchmarks of scaling out: the supervisor does not watch it; ``stop()`` stops it."""
        name = f"{service}#{sum(1 for p in self.procs if p.partition('#')[0] == service) + 1}"
        self.ports[name] = free_port()
        self._start_service(service, name=name)
        self.wait_ready(ready_timeout, names=(name,))
        return self.url(name)

    def _start_service(self, service: str, *, name: str | None = None) -> None:
        name = name or service
        env = {**os.environ, **self.env, "TOVHOLDER_SERVICE": service,
               "TOVHOLDER_DATABASE_URL": self.database_url(service), "TOVHOLDER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
               "TOVHOLDER_PORT": str(self.ports[name]), "TOVHOLDER_STATE_DIR": str(self.state_dir),
               # Tansu refuses the idempotent producer; Apache Kafka gets it, as in production.
               "TOVHOLDER_KAFKA_IDEMPOTENT_PRODUCER": "true" if self.broker == "kafka" else "false",
               # The portal calls the four services where this stack runs them.
               **{f"TOVHOLDER_PORTAL_{s.upper()}_URL": self.url(s) for s in SERVICES}}
        with open(self.logs / f"{name}.log", "ab") as log:  # the child keeps its own copy
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "tovholder.cli", "serve", service], env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent(),
            )

    def _cpr_keys(self) -> dict[str, str]:
        keys = {}
        for name in ("cpr_hash_key", "cpr_encryption_key"):
            value = self.env.get(f"TOVHOLDER_{name.upper()}") or os.environ.get(f"TOVHOLDER_{name.upper()}")
            if value:
                keys[name] = value
        return keys

    def wait_ready(self, timeout: float, names: tuple[str, ...] | None = None) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        pending = set(names or self.processes)
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                if self.procs[service].poll() is not None:
                    raise RuntimeError(f"{service} exited during start; see {self.logs / (service + '.log')}")
                try:
                    if httpx.get(f"{self.url(service)}/readyz", timeout=1).status_code == 200:
                        pending.discard(service)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        if pending:
            raise RuntimeError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))} (logs in {self.logs})")

    # ------------------------------------------------------------ supervision

    def supervise(self) -> None:
        """One round: restart, alone and with backoff, any part that has died."""
        self._watch("PostgreSQL", lambda: self.pg.running, lambda: self.pg.process, self.pg.start,
                    self.logs / "postgres.log")
        self._watch(self.broker_name, lambda: self.kafka.running, lambda: self.kafka.process, self._start_broker,
                    self.kafka.log_file)
        for service in self.processes:
            self._watch(service, lambda s=service: self.procs[s].poll() is None, lambda s=service: self.procs[s],
                        lambda s=service: self._start_service(s), self.logs / f"{service}.log")

    def _watch(self, name: str, alive: Callable[[], bool], process: Callable[[], subprocess.Popen | None],
               restart: Callable[[], None], log_file: Path | None) -> None:
        part = self._parts.setdefault(name, _Part())
        now = time.monotonic()
        if part.restart_at is None:
            if alive():
                if part.failures and now - part.started_at > HEALTHY_AFTER_S:
                    part.failures = 0
                return
            delay = self._schedule_restart(part, now)
            where = f"; see {log_file}" if log_file else ""
            self.say(f"{name} stopped ({exit_reason(process())}); restarting it in {delay:.0f}s{where}")
            return
        if now < part.restart_at:
            return
        try:
            restart()
        except Exception as exc:  # noqa: BLE001 - reported on the console; tried again later
            delay = self._schedule_restart(part, time.monotonic())
            self.say(f"{name} did not start again ({exc}); next try in {delay:.0f}s")
            return
        part.restart_at, part.started_at = None, time.monotonic()
        self.say(f"{name} restarted")

    @staticmethod
    def _schedule_restart(part: _Part, now: float) -> float:
        part.failures += 1
        delay = min(RESTART_BACKOFF_INITIAL_S * 2 ** (part.failures - 1), RESTART_BACKOFF_MAX_S)
        part.restart_at = now + delay
        return delay

    def stop(self) -> None:
        """Stop every process this stack started, by process group, then the broker and PostgreSQL."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.say(f"{name} did not stop within 15 s of SIGTERM; killed (see {self.logs / (name + '.log')})")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # The broker and PostgreSQL stop side by side: nothing uses either any more.
        broker = threading.Thread(target=self.kafka.stop, name="stop-broker")
        broker.start()
        self.pg.stop()
        broker.join()
