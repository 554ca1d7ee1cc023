"""The cluster id the project formats a local Apache Kafka with: what Kafka's StorageTool takes on its
command line. An id that starts with "-" (one in 64 of them) was read as an option, and the broker did
not start: "argument --cluster-id/-t: expected one argument"."""

import base64
import uuid
from unittest import mock

from tovholder import apache_kafka


def test_a_cluster_id_is_16_bytes_of_url_safe_base64_and_never_starts_with_a_dash():
    dashed = uuid.UUID(bytes=base64.urlsafe_b64decode("-" + "A" * 21 + "=="))  # an id that begins "-AAA…"
    plain = uuid.UUID(int=1)
    with mock.patch.object(apache_kafka.uuid, "uuid4", side_effect=[dashed, dashed, plain]):
        cluster_id = apache_kafka._kafka_uuid()
    assert not cluster_id.startswith("-") and len(cluster_id) == 22
    assert base64.urlsafe_b64decode(cluster_id + "==") == plain.bytes
    assert all(not apache_kafka._kafka_uuid().startswith("-") for _ in range(2_000))
