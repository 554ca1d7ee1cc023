"""Deliveries connect to the checked address while keeping the partner's host name in the Host header
and in TLS (SNI and certificate verification) — against real local servers with a throwaway CA."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from services.notifications import webhooks

pytestmark = pytest.mark.integration
PARTNER_HOST = "hooks.partner.test"  # resolvable only through the test's resolver: nothing else can find it


@contextmanager
def https_receiver(ca: trustme.CA, cert_for: str) -> Iterator[dict]:
    seen: dict = {"sni": [], "hosts": [], "requests": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["hosts"].append(self.headers.get("Host"))
            seen["requests"].append((body, dict(self.headers.items())))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(cert_for).configure_cert(context)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["port"] = server.server_address[1]
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def only(host: str, address: str = "127.0.0.1"):
    async def resolve(name: str, port: int) -> list[str]:
        if name != host:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [address]
    return resolve


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def client_trusting(ca: trustme.CA):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return webhooks.delivery_client(timeout_s=5, verify=context)


async def test_connects_to_the_pinned_address_with_host_and_sni_of_the_partner(ca):
    with https_receiver(ca, PARTNER_HOST) as seen:
        target = await webhooks.resolve_callback(f"https://{PARTNER_HOST}:{seen['port']}/hook", allow_loopback=True,
                                                 resolve=only(PARTNER_HOST))
        async with client_trusting(ca) as client:
            status = await webhooks.post_pinned(client, target, b"{}", {"Content-Type": "application/json"})
    assert status == 204
    assert seen["sni"] == [PARTNER_HOST]  # the certificate was checked for the partner's name…
    assert seen["hosts"] == [f"{PARTNER_HOST}:{seen['port']}"]  # …and the request names it


async def test_a_certificate_for_another_name_fails_as_tls(ca):
    with https_receiver(ca, "someone-else.test") as seen:
        target = await webhooks.resolve_callback(f"https://{PARTNER_HOST}:{seen['port']}/hook", allow_loopback=True,
                                                 resolve=only(PARTNER_HOST))
        async with client_trusting(ca) as client:
            with pytest.raises(Exception) as failed:
                await webhooks.post_pinned(client, target, b"{}", {})
    assert webhooks.failure_class(failed.value) == "tls"
    assert seen["hosts"] == []  # nothing was sent


async def test_refused_and_silent_receivers_fail_as_short_classes(ca):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    target = await webhooks.resolve_callback(f"http://127.0.0.1:{port}/hook", allow_loopback=True)
    async with webhooks.delivery_client(timeout_s=2) as client:
        with pytest.raises(Exception) as refused:
            await webhooks.post_pinned(client, target, b"{}", {})
    assert webhooks.failure_class(refused.value) == "connection-refused"

    with socket.socket() as silent:  # accepts the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        target = await webhooks.resolve_callback(f"http://127.0.0.1:{silent.getsockname()[1]}/", allow_loopback=True)
        async with webhooks.delivery_client(timeout_s=0.3) as client:
            with pytest.raises(Exception) as timed_out:
                await webhooks.post_pinned(client, target, b"{}", {})
    assert webhooks.failure_class(timed_out.value) == "timeout"
