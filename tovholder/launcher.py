"""Start the whole system locally: PostgreSQL, a broker (Tansu by default, or Apache Kafka), topics,
migrations, demo data and the four services as separate processes. `tovholder up` and the
end-to-end tests both use this."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from contracts.topics import SERVICES
from tovholder.apache_kafka import ApacheKafka
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics, die_with_parent
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


@dataclass
class LocalStack:
    state_dir: Path
    ports: dict[str, int]
    pg_port: int | None = None
    kafka_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the service processes
    load_demo: bool = True
    broker: str = "tansu"  # or "kafka": Apache Kafka from Maven Central (needs Java 17+)
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
        for service in SERVICES:
            self.pg.ensure_database(service)
        self.kafka.start()
        asyncio.run(create_topics(self.kafka.bootstrap))
        for service in SERVICES:
            upgrade(service, self.database_url(service))
        settings = Settings(state_dir=self.state_dir, **self._cpr_keys())
        if self.load_demo:
            asyncio.run(seed_demo({s: self.database_url(s) for s in SERVICES}, settings))
        for service in SERVICES:
            env = {**os.environ, **self.env, "TOVHOLDER_SERVICE": service,
                   "TOVHOLDER_DATABASE_URL": self.database_url(service), "TOVHOLDER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                   "TOVHOLDER_PORT": str(self.ports[service]), "TOVHOLDER_STATE_DIR": str(self.state_dir),
                   # Tansu refuses the idempotent producer; Apache Kafka gets it, as in production.
                   "TOVHOLDER_KAFKA_IDEMPOTENT_PRODUCER": "true" if self.broker == "kafka" else "false"}
            self.procs[service] = subprocess.Popen(
                [sys.executable, "-m", "tovholder.cli", "serve", service], env=env,
                stdout=open(self.logs / f"{service}.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        self.wait_ready(ready_timeout)

    def _cpr_keys(self) -> dict[str, str]:
        keys = {}
        for name in ("cpr_hash_key", "cpr_encryption_key"):
            value = self.env.get(f"TOVHOLDER_{name.upper()}") or os.environ.get(f"TOVHOLDER_{name.upper()}")
            if value:
                keys[name] = value
        return keys

    def wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        pending = set(SERVICES)
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

    def check_alive(self) -> None:
        for service, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{service} stopped unexpectedly; see {self.logs / (service + '.log')}")

    def stop(self) -> None:
        """Stop every process this stack started, by process group, then the broker and PostgreSQL."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.kafka.stop()
        self.pg.stop()
