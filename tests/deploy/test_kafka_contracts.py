"""KafkaTopic/KafkaUser manifests cannot drift from contracts/topics.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_checks as k  # noqa: E402
from contracts import topics as contract  # noqa: E402


def _generator():
    spec = importlib.util.spec_from_file_location("generate_kafka", k.ROOT / "deploy" / "generate_kafka.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_manifests_equal_generated():
    gen = _generator()
    for path, text in gen.render().items():
        assert path.read_text() == text, (
            f"{path.relative_to(k.ROOT)} is out of date with contracts/topics.py; "
            "run `python deploy/generate_kafka.py` and commit the result"
        )


def test_every_topic_has_a_kafkatopic_including_dead_letters():
    docs = k.rendered("prod")
    names = {t["spec"]["topicName"] for t in k.of_kind(docs, "KafkaTopic")}
    assert {t.name for t in contract.ALL_TOPICS} == names
    assert {t.name for t in contract.DEAD_LETTER_TOPICS} <= names


@pytest.mark.parametrize("service", contract.SERVICES)
def test_each_service_writes_only_its_own_topics(service):
    user = k.named(k.rendered("prod"), "KafkaUser", f"tovholder-{service}")
    writable = {a["resource"]["name"] for a in user["spec"]["authorization"]["acls"]
                if a["resource"]["type"] == "topic" and {"Write", "All", "Create", "Delete", "Alter"} & set(a["operations"])}
    own = {t.name for t in contract.ALL_TOPICS if t.producer == service}
    assert writable == own
    readable = {a["resource"]["name"] for a in user["spec"]["authorization"]["acls"]
                if a["resource"]["type"] == "topic" and "Read" in a["operations"]}
    dlq = {t.name for t in contract.DEAD_LETTER_TOPICS if t.producer == service}
    assert readable == {t.name for t in contract.consumed_by(service)} | dlq
    groups = {a["resource"]["name"] for a in user["spec"]["authorization"]["acls"] if a["resource"]["type"] == "group"}
    assert groups == {contract.consumer_group(service)}


def test_a_new_contract_topic_without_manifest_fails(monkeypatch):
    docs = k.rendered("prod")
    new = contract.Topic("tovholder.plans.events.v2", "plans", consumers=("health",))
    monkeypatch.setattr(contract, "ALL_TOPICS", contract.ALL_TOPICS + (new,))
    errors = k.check_kafka_contracts(docs)
    assert any("tovholder.plans.events.v2" in e and "no KafkaTopic" in e for e in errors)
    assert any("KafkaUser/tovholder-plans" in e and "lacks ['Describe', 'Write']" in e for e in errors)
    assert any("KafkaUser/tovholder-health" in e and "lacks ['Describe', 'Read']" in e for e in errors)


def test_generator_check_mode_reports_drift(tmp_path, monkeypatch, capsys):
    gen = _generator()
    monkeypatch.setattr(gen, "OUT_DIR", tmp_path)
    assert gen.main(["--check"]) == 1  # nothing written yet: drift
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    (tmp_path / "users.yaml").write_text((tmp_path / "users.yaml").read_text().replace("Read", "Write"))
    assert gen.main(["--check"]) == 1
