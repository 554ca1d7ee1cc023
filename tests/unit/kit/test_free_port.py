"""free_port: ports for processes about to start, chosen where outgoing connections cannot take them."""

from __future__ import annotations

import socket

from tovholder.infra import _ephemeral_range, free_port


def test_ports_are_below_the_ephemeral_range_distinct_and_bindable():
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50  # never the same port twice to two processes of one stack
    assert all(p < low for p in ports), "a port from the range the kernel gives outgoing connections"
    for port in ports[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free when handed out
