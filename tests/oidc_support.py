"""A real OpenID provider for the tests: node-oidc-provider (npm, certified by the OpenID Foundation)
run under the machine's Node.js from the repository's node_modules (``make node_modules``, from the
committed package-lock.json). Without node, the tests that need it are skipped and say why."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tovholder.infra import free_port

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).parent / "oidc" / "provider.mjs"
NODE = shutil.which("node") or "/usr/bin/node"
CLIENT_ID = "tovholder-portal"
CLIENT_SECRET = "tests-only-client-secret-0123456789"


def require_node_packages(*packages: str) -> None:
    if not Path(NODE).exists():
        pytest.skip(f"Node.js is missing (no node at {NODE}): the OpenID provider and axe-core run under it. "
                    "Install the Debian package: apt-get install nodejs npm")
    missing = [p for p in packages if not (ROOT / "node_modules" / p / "package.json").exists()]
    if missing:
        pytest.fail(f"npm packages missing: {', '.join(missing)}; run `make node_modules` (npm ci from package-lock.json)")


@dataclass
class Provider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"


@contextlib.contextmanager
def oidc_provider(tmp_path: Path, *, redirect_uris: list[str], post_logout_redirect_uris: list[str],
                  accounts: dict[str, dict], timeout: float = 20) -> Iterator[Provider]:
    require_node_packages("oidc-provider", "jose")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = tmp_path / "oidc-provider.json"
    config.write_text(json.dumps({"port": port, "issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                  "redirect_uris": redirect_uris, "post_logout_redirect_uris": post_logout_redirect_uris,
                                  "accounts": accounts}))
    log = open(tmp_path / "oidc-provider.log", "wb")
    process = subprocess.Popen([NODE, str(SCRIPT), str(config)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the OpenID provider exited: {(tmp_path / 'oidc-provider.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the OpenID provider did not start")
            time.sleep(0.1)
        yield Provider(issuer)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
