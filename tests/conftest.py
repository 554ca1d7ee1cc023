"""Fixtures on real parts. PostgreSQL (one server for the session, a fresh database per service
instance) and a broker (a fresh one per test module, so consumer groups and offsets never leak
between modules) are started only when a test asks for them.

The broker is Apache Kafka 4.x (jars from Maven Central, see tovholder/apache_kafka.py) whenever
Java 17+ is here, and Tansu otherwise; `TOVHOLDER_TEST_BROKER=tansu|kafka` forces one. Modules
marked ``both_brokers`` (the kit's delivery guarantees, the thin flow end to end) run on each
available broker, because `make run` uses Tansu.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.topics import ALL_TOPICS
from tovholder.apache_kafka import QUICK_START_JVM, ApacheKafka, KafkaUnavailable, check_java, ensure_kafka_jars
from tovholder.infra import EmbeddedPostgres, Tansu, create_topics


def _choose_broker() -> tuple[str, str]:
    forced = os.environ.get("TOVHOLDER_TEST_BROKER", "").strip().lower()
    if forced == "tansu":
        return "tansu", "TOVHOLDER_TEST_BROKER=tansu"
    try:
        check_java()
        ensure_kafka_jars()
        return "kafka", "Java 17+ found"
    except KafkaUnavailable as exc:
        if forced == "kafka":
            raise pytest.UsageError(f"TOVHOLDER_TEST_BROKER=kafka but {exc}") from None
        return "tansu", str(exc)


PREFERRED_BROKER, BROKER_REASON = _choose_broker()
AVAILABLE_BROKERS = ["kafka", "tansu"] if PREFERRED_BROKER == "kafka" else ["tansu"]


def pytest_report_header(config: pytest.Config) -> str:
    if PREFERRED_BROKER == "kafka":
        return f"broker: Apache Kafka (integration and e2e tests; {BROKER_REASON}); Tansu for the compatibility set"
    return f"broker: Tansu for every test ({BROKER_REASON})"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_brokers: run the module on Apache Kafka and on Tansu")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "broker_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_brokers"):
        metafunc.parametrize("broker_kind", AVAILABLE_BROKERS, indirect=True, scope="module")


class KafkaPool:
    """Fresh Apache Kafka nodes, one kept starting in the background while a module runs, so a
    module waits for a JVM's start only once per session instead of once per module.

    Every node is started by one long-lived worker thread: the parent-death signal that takes a
    node down with a killed test run belongs to the thread that started it, so that thread must
    live as long as the session. A start that fails (a free port taken by someone else before
    the JVM bound it) is retried on new ports."""

    ATTEMPTS = 3

    def __init__(self, base: Path) -> None:
        self.base = base
        self.count = 0
        self.started: list[ApacheKafka] = []
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-pool")
        self.spare: Future | None = None

    def _start_node(self) -> ApacheKafka:
        error: BaseException | None = None
        for _ in range(self.ATTEMPTS):
            self.count += 1
            node = ApacheKafka(data_dir=self.base / f"kafka-{self.count}", heap="320m", jvm_options=QUICK_START_JVM)
            self.started.append(node)
            try:
                node.start()
                asyncio.run(create_topics(node.bootstrap, ALL_TOPICS))
                return node
            except Exception as exc:
                error = exc
                node.kill()
        raise RuntimeError(f"Apache Kafka did not start in {self.ATTEMPTS} attempts: {error}")

    def take(self) -> ApacheKafka:
        future = self.spare or self.worker.submit(self._start_node)
        self.spare = self.worker.submit(self._start_node)
        return future.result()

    def close(self) -> None:
        if self.spare is not None:
            with contextlib.suppress(Exception):
                self.spare.result()
        for node in self.started:
            node.stop()
        self.worker.shutdown()


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    base = tmp_path_factory.mktemp("postgres")
    server = EmbeddedPostgres(base / "pgdata", log_file=base / "postgres.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaPool]:
    pool = KafkaPool(tmp_path_factory.mktemp("kafka"))
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def broker_kind(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", PREFERRED_BROKER)


@pytest.fixture(scope="module")
def kafka(broker_kind: str, request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheKafka | Tansu]:
    """A fresh broker for this module, topics created (named ``kafka`` whichever broker it is)."""
    yield from fresh_broker(broker_kind, request, tmp_path_factory)


def fresh_broker(broker_kind: str, request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheKafka | Tansu]:
    """A fresh broker of ``broker_kind``, topics created, stopped when the generator is closed."""
    if broker_kind == "kafka":
        node = request.getfixturevalue("kafka_pool").take()
        yield node
        node.kill()  # thrown away: its controlled shutdown took up to 10 s of a module's teardown
        return
    broker = Tansu(log_file=tmp_path_factory.mktemp("tansu") / "tansu.log")
    broker.start()
    asyncio.run(create_topics(broker.bootstrap, ALL_TOPICS))
    yield broker
    broker.stop()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """Where a test's services keep their development signing key."""
    path = tmp_path / "state"
    path.mkdir()
    return path
