"""Apache Kafka 4.x for local runs and the test suite, from Maven Central — no tarball, no Docker.

The jars come from ``tovholder/kafka_local/pom.xml`` through ``mvn dependency:copy-dependencies``,
fetched once and cached under ``.tovholder/kafka-<version>/libs`` (Maven's own cache keeps the
downloads). The distribution's shell scripts are not on Maven Central, so the broker runs as
``java -cp libs/* kafka.Kafka server.properties`` after ``kafka.tools.StorageTool format``.

One node is a combined KRaft broker + controller on loopback ports; ``KafkaCluster`` starts three
that share one controller quorum (replication factor 3, ``min.insync.replicas=2``, unclean leader
election off) for the broker-failure tests. Data lives on disk and survives a restart of the node.
Every node dies with the process that started it, like the other local processes.

A JVM spends most of a broker's start loading and verifying Kafka's ~5,000 classes: the first start
on a machine records them in a class-data sharing archive (``ensure_class_archive``, next to the
jars), and every later start maps it instead (measured on 2 cores: 8–9 s of CPU per start without,
about half with it). Brokers that live a minute (the tests') may also skip the optimising JIT
(``QUICK_START_JVM``).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tovholder.infra import die_with_parent, free_port, port_is_open

POM = Path(__file__).parent / "kafka_local" / "pom.xml"
JAVA_MIN_MAJOR = 17
KAFKA_VERSION = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text()).group(1)
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path(os.environ.get("TOVHOLDER_KAFKA_CACHE", REPO_ROOT / ".tovholder" / "kafka"))
# For a broker that lives a minute, as the tests' do: C1 only. C2's compiler threads spend more CPU
# on a short-lived broker than its faster code gives back (measured: 1.6 vs 0.9 s of CPU in a broker's
# first idle 20 s, and 2–3 s less per start). Never for the benches: they measure the broker as it runs.
QUICK_START_JVM = ("-XX:TieredStopAtLevel=1",)

log = logging.getLogger(__name__)


class KafkaUnavailable(RuntimeError):
    """Apache Kafka cannot run here (no Java 17+, or its jars cannot be fetched); the message says why."""


@functools.cache
def _java_version_text(java: str) -> str | None:
    """What ``java -version`` prints (asked once per executable and process: each asking starts a JVM)."""
    try:
        return subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None


def java_major_version(java: str | None = None) -> int | None:
    java = java or _java()
    if not java:
        return None
    out = _java_version_text(java)
    if out is None:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8" is Java 8


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_java() -> str:
    """The java executable, or KafkaUnavailable with a one-line reason."""
    java = _java()
    major = java_major_version(java) if java else None
    if not java or major is None:
        raise KafkaUnavailable(f"Apache Kafka needs Java {JAVA_MIN_MAJOR}+; no java found (install a JDK or set JAVA_HOME)")
    if major < JAVA_MIN_MAJOR:
        raise KafkaUnavailable(f"Apache Kafka needs Java {JAVA_MIN_MAJOR}+; {java} is Java {major}")
    return java


def kafka_available() -> bool:
    """True when Java 17+ is here and the jars are cached or Maven can fetch them."""
    try:
        check_java()
    except KafkaUnavailable:
        return False
    return _libs_dir(DEFAULT_CACHE).joinpath(".complete").exists() or shutil.which("mvn") is not None


def _libs_dir(cache: Path) -> Path:
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:10]  # a changed POM fetches a fresh set
    return cache / f"kafka-{KAFKA_VERSION}-{digest}" / "libs"


def ensure_kafka_jars(cache: Path = DEFAULT_CACHE) -> Path:
    """The directory of Kafka's runtime jars, fetched with Maven the first time."""
    libs = _libs_dir(cache)
    if (libs / ".complete").exists():
        return libs
    check_java()
    mvn = shutil.which("mvn")
    if not mvn:
        raise KafkaUnavailable("Apache Kafka's jars are not cached and Maven (mvn) is missing to fetch them")
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
         f"-DoutputDirectory={partial}", "-DincludeScope=runtime"],
        capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise KafkaUnavailable("could not fetch Apache Kafka from Maven Central: " + " | ".join(tail))
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    (libs / ".complete").write_text(KAFKA_VERSION)
    return libs


def class_archive_path(libs: Path, java: str) -> Path:
    """Where the class-data sharing archive of Kafka's classes for this JVM build lives: an archive is
    valid for the JVM build and classpath that wrote it only (another build would ignore it, slowly)."""
    build = hashlib.sha256((_java_version_text(java) or java).encode()).hexdigest()[:10]
    return libs.parent / f"classes-{build}.jsa"


def ensure_class_archive(libs: Path, java: str) -> Path | None:
    """The class-data sharing archive of a broker's start, made the first time (one broker started and
    stopped, ~10 s, under a file lock so concurrent starts make it once). None when it cannot be made:
    a broker starts without it, only slower."""
    archive = class_archive_path(libs, java)
    if archive.exists():
        return archive
    with open(archive.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if archive.exists():
            return archive
        partial = archive.with_suffix(f".{os.getpid()}.partial")
        with tempfile.TemporaryDirectory(prefix="kafka-classes-") as scratch:
            node = ApacheKafka(data_dir=Path(scratch), cache=libs.parent.parent, share_classes=False,
                               jvm_options=(f"-XX:ArchiveClassesAtExit={partial}",))
            try:
                node.start(timeout=120)
            except RuntimeError as exc:
                log.warning("no class-data sharing archive for Apache Kafka (starts stay slower): %s", exc)
            finally:
                node.stop()  # the JVM writes the archive as it exits
        if not partial.exists():
            return None
        partial.replace(archive)
    return archive


LOG4J2 = """\
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""


@dataclass
class ApacheKafka:
    """One KRaft node (broker + controller) on loopback; data under ``data_dir`` survives restarts."""

    data_dir: Path
    port: int | None = None  # None: a free port, replaced by another if taken before the JVM binds it
    controller_port: int | None = None
    node_id: int = 1
    # All voters of the quorum as (node_id, controller_port); one node alone by default.
    voters: list[tuple[int, int]] | None = None
    cluster_id: str | None = None
    replication_factor: int = 1
    min_insync_replicas: int = 1
    log_file: Path | None = None
    heap: str = "384m"
    cache: Path = DEFAULT_CACHE
    jvm_options: tuple[str, ...] = ()
    share_classes: bool = True  # map the class-data sharing archive (made on the first start)
    process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.ports_chosen_here = self.port is None and self.voters is None
        self.port = self.port or free_port()
        self.controller_port = self.controller_port or free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def kind(self) -> str:
        return "kafka"

    def _properties(self) -> str:
        voters = self.voters or [(self.node_id, self.controller_port)]
        quorum = ",".join(f"{node}@127.0.0.1:{port}" for node, port in voters)
        rf, isr = self.replication_factor, self.min_insync_replicas
        return "\n".join([
            "process.roles=broker,controller",
            f"node.id={self.node_id}",
            f"controller.quorum.voters={quorum}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.data_dir / 'log'}",
            # Topics are created by the project (contracts/topics.py), never by a typo in a producer.
            "auto.create.topics.enable=false",
            f"default.replication.factor={rf}",
            f"min.insync.replicas={isr}",
            "unclean.leader.election.enable=false",
            f"offsets.topic.replication.factor={rf}",
            "offsets.topic.num.partitions=8",
            f"transaction.state.log.replication.factor={rf}",
            f"transaction.state.log.min.isr={isr}",
            f"share.coordinator.state.topic.replication.factor={rf}",
            f"share.coordinator.state.topic.min.isr={isr}",
            # Consumers join at once: nothing waits for more members that never come.
            "group.initial.rebalance.delay.ms=0",
            # The services' classic-protocol consumers use short sessions locally (settings.py).
            "group.min.session.timeout.ms=1000",
            "log.segment.bytes=16777216",
            "num.partitions=1",
            "",
        ])

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(self._properties())
        (self.data_dir / "log4j2.yaml").write_text(LOG4J2)
        return config

    def _java_command(self, main: str, *args: str) -> list[str]:
        java = check_java()
        libs = ensure_kafka_jars(self.cache)
        archive = ensure_class_archive(libs, java) if self.share_classes else None
        sharing = [f"-XX:SharedArchiveFile={archive}"] if archive else []
        return [java, f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                *sharing, *self.jvm_options, f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}",
                "-cp", f"{libs}/*", main, *args]

    def _format_command(self) -> list[str] | None:
        """The StorageTool command that formats the KRaft log directory, or None when it already is
        (a restart keeps its data)."""
        config = self._write_config()
        if (self.data_dir / "log" / "meta.properties").exists():
            return None
        self.cluster_id = self.cluster_id or _kafka_uuid()
        return self._java_command("kafka.tools.StorageTool", "format", "--ignore-formatted",
                                  "-t", self.cluster_id, "-c", str(config))

    def start(self, timeout: float = 90, wait: bool = True) -> None:
        """Start the node; with ``wait``, until it listens. A port someone else took between our
        choosing it and the JVM binding it is replaced by a new one (a single node only: in a
        cluster the quorum's ports are fixed)."""
        for attempt in range(3):
            try:
                self._launch()
                if wait:
                    self.wait_ready(timeout)
                return
            except RuntimeError as exc:
                if "already in use" not in str(exc) or not self.ports_chosen_here or attempt == 2:
                    raise
                self.port, self.controller_port = free_port(), free_port()

    def _launch(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use; set another Kafka port (TOVHOLDER_KAFKA_PORT)")
        serve = self._java_command("kafka.Kafka", str(self.data_dir / "server.properties"))
        fmt = self._format_command()
        # Format and serve as one process (sh execs the broker, keeping the pid), so the whole start
        # can be waited for elsewhere while the parent-death signal stays with the caller's thread.
        command = ["sh", "-c", f"{shlex.join(fmt)} >/dev/null && exec {shlex.join(serve)}"] if fmt else serve
        out = open(self.log_path, "ab")
        self._log_offset = out.tell()
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=die_with_parent())

    @property
    def log_path(self) -> Path:
        return self.log_file or self.data_dir / "kafka.log"

    def _start_log(self) -> str:
        """What the broker printed since this start: its errors, without Java's stack frames."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(getattr(self, "_log_offset", 0))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("at ")]
        return " | ".join(lines[-6:])[-1200:]

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                printed = self._start_log()
                if "Address already in use" in printed or "BindException" in printed:
                    raise RuntimeError(f"Apache Kafka's port {self.port} or {self.controller_port} is already in use")
                raise RuntimeError(f"Apache Kafka exited at start (see {self.log_path}): {printed}")
            if port_is_open(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"Apache Kafka did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # controlled shutdown: leadership moves away first
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crashed machine would: no controlled shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class KafkaCluster:
    """Three (or ``size``) KRaft nodes sharing one controller quorum, as Strimzi runs them."""

    base_dir: Path
    size: int = 3
    min_insync_replicas: int = 2
    jvm_options: tuple[str, ...] = ()
    nodes: list[ApacheKafka] = field(init=False)

    def __post_init__(self) -> None:
        cluster_id = _kafka_uuid()
        controller_ports = [free_port() for _ in range(self.size)]
        voters = [(i + 1, port) for i, port in enumerate(controller_ports)]
        self.nodes = [
            ApacheKafka(data_dir=self.base_dir / f"node-{i + 1}", node_id=i + 1, controller_port=controller_ports[i],
                        voters=voters, cluster_id=cluster_id, replication_factor=self.size,
                        min_insync_replicas=self.min_insync_replicas, heap="320m", jvm_options=self.jvm_options)
            for i in range(self.size)
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def kind(self) -> str:
        return "kafka-cluster"

    def node(self, node_id: int) -> ApacheKafka:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start(self, timeout: float = 120) -> None:
        for node in self.nodes:  # the quorum forms only when a majority runs: start all, then wait
            node.start(wait=False)
        for node in self.nodes:
            node.wait_ready(timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill() if not node.running else node.stop()

    def kill(self) -> None:
        """SIGKILL every node: for a cluster whose data is thrown away. (``stop`` shuts down one node
        after another, and the last ones wait up to their timeout for a controller quorum that is gone.)"""
        for node in self.nodes:
            node.kill()


def _kafka_uuid() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what StorageTool makes).
    Never one that starts with "-": the storage tool's command line would read it as an option and
    refuse to format (one id in 64; Kafka's own ``Uuid.randomUuid`` draws again for the same reason)."""
    import base64

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


if __name__ == "__main__":  # python -m tovholder.apache_kafka: fetch the jars once (CI provisioning)
    import sys

    try:
        libs = ensure_kafka_jars()
        archive = ensure_class_archive(libs, check_java())
        print(f"Apache Kafka {KAFKA_VERSION}: {libs} (class-data sharing: {archive or 'none, see the warning'})")
    except KafkaUnavailable as exc:
        print(f"Apache Kafka unavailable: {exc}", file=sys.stderr)
        sys.exit(1)
