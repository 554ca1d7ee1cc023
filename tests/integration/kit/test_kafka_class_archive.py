"""Apache Kafka's class-data sharing archive: made once per JVM build next to the jars, then mapped
by every start (the format tool's and the broker's). Real JVMs; `-Xshare:on` makes a JVM refuse to
start when it cannot map the archive, so a start that listens proves the archive is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from tovholder.apache_kafka import (
    QUICK_START_JVM,
    ApacheKafka,
    check_java,
    class_archive_path,
    ensure_class_archive,
    ensure_kafka_jars,
    kafka_available,
)

pytestmark = pytest.mark.skipif(not kafka_available(), reason="needs Java 17+ for Apache Kafka")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A jar cache of its own (the real jars, linked), so this test makes its own archive."""
    libs = ensure_kafka_jars()
    own = tmp_path / "cache"
    (own / libs.parent.name).mkdir(parents=True)
    (own / libs.parent.name / "libs").symlink_to(libs)
    return own


def test_the_first_start_makes_the_archive_and_later_starts_map_it(cache: Path, tmp_path: Path) -> None:
    java = check_java()
    libs = ensure_kafka_jars(cache)
    archive = class_archive_path(libs, java)
    assert not archive.exists()

    node = ApacheKafka(data_dir=tmp_path / "node", cache=cache, jvm_options=("-Xshare:on", *QUICK_START_JVM))
    command = node._java_command("kafka.Kafka")
    assert f"-XX:SharedArchiveFile={archive}" in command
    assert archive.stat().st_size > 1_000_000
    assert not list(archive.parent.glob("*.partial"))
    made = archive.stat().st_mtime_ns

    node.start(timeout=120)  # formats (one JVM) and serves (another), both with -Xshare:on
    try:
        assert node.running
    finally:
        node.stop()
    assert ensure_class_archive(libs, java) == archive
    assert archive.stat().st_mtime_ns == made  # made once, not again


def test_an_archive_the_jvm_cannot_use_only_slows_the_start(cache: Path, tmp_path: Path) -> None:
    java = check_java()
    libs = ensure_kafka_jars(cache)
    archive = class_archive_path(libs, java)
    archive.write_bytes(b"not an archive" * 1000)  # e.g. written by another JVM build under the same name

    node = ApacheKafka(data_dir=tmp_path / "node", cache=cache, jvm_options=QUICK_START_JVM)
    node.start(timeout=120)
    try:
        assert node.running
    finally:
        node.stop()


def test_a_broker_can_start_without_sharing(cache: Path, tmp_path: Path) -> None:
    node = ApacheKafka(data_dir=tmp_path / "node", cache=cache, share_classes=False, jvm_options=QUICK_START_JVM)
    assert not any(arg.startswith("-XX:SharedArchiveFile") for arg in node._java_command("kafka.Kafka"))
    assert not class_archive_path(ensure_kafka_jars(cache), check_java()).exists()
