"""The Dockerfile builds one slim, non-root, multi-stage image for all four services.

No Docker engine here, so this parses the Dockerfile instead of building it.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_checks as k  # noqa: E402

DOCKERFILE = k.ROOT / "Dockerfile"
DOCKERIGNORE = k.ROOT / ".dockerignore"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_errors(text: str) -> list[str]:
    ins = instructions(text)
    errors = []
    froms = [i for i, (word, _) in enumerate(ins) if word == "FROM"]
    if len(froms) < 2:
        errors.append("not multi-stage (needs a build stage and a runtime stage)")
        final = ins[froms[-1]:] if froms else ins
    else:
        final = ins[froms[-1]:]
    users = [arg for word, arg in final if word == "USER"]
    if not users:
        errors.append("final stage has no USER")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit():
            errors.append(f"USER {users[-1]!r} is not a numeric uid (runAsNonRoot cannot verify names)")
        elif int(uid) == 0:
            errors.append("USER is root")
    entry = [arg for word, arg in final if word == "ENTRYPOINT"]
    if not entry or json.loads(entry[-1])[0] != "tovholder":
        errors.append("ENTRYPOINT must be the `tovholder` console script (exec form)")
    if ("EXPOSE", "8080") not in final:
        errors.append("final stage must EXPOSE 8080 (TOVHOLDER_PORT)")
    if len(froms) >= 2:
        build_stage = ins[froms[0]:froms[-1]]
        if not any(word == "RUN" and "pip install" in arg for word, arg in build_stage):
            errors.append("dependencies are not installed in the build stage")
        if any(word == "RUN" and "pip install" in arg for word, arg in final):
            errors.append("pip runs in the final stage; copy the built virtualenv instead")
        if not any(word == "COPY" and "--from=" in arg for word, arg in final):
            errors.append("final stage does not copy from the build stage")
    base = [arg for word, arg in ins if word == "ARG" and arg.startswith("PYTHON_IMAGE=")]
    images = [arg.split()[0] for word, arg in ins if word == "FROM"]
    resolved = [base[0].split("=", 1)[1] if img == "${PYTHON_IMAGE}" and base else img for img in images]
    for img in resolved:
        if "slim" not in img and "distroless" not in img:
            errors.append(f"base image {img!r} is not slim")
    return errors


def test_dockerfile_is_multistage_slim_non_root():
    assert dockerfile_errors(DOCKERFILE.read_text()) == []


def test_image_user_matches_pod_security_context():
    final = instructions(DOCKERFILE.read_text().rsplit("FROM ", 1)[1])
    uid, gid = next(arg for word, arg in final if word == "USER").split(":")
    for overlay in k.OVERLAYS:
        docs = k.rendered(overlay)
        for svc in k.SERVICES:
            pod = k.named(docs, "Deployment", f"tovholder-{svc}")["spec"]["template"]["spec"]
            assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (int(uid), int(gid))


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore semantics, enough for this file: last matching pattern wins."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.rstrip("/")
        if pat == "**" or fnmatch.fnmatch(path, pat) or path.startswith(pat + "/") or fnmatch.fnmatch(path, pat.replace("**/", "")):
            ignored = not negate
    return ignored


def test_build_context_has_what_the_dockerfile_copies_and_nothing_secret():
    patterns = [p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]
    copies = []
    for word, arg in instructions(DOCKERFILE.read_text()):
        if word == "COPY" and "--from=" not in arg:
            copies += arg.split()[:-1]
    for src in copies:
        if src.endswith("*"):  # optional file (README.md*)
            continue
        assert (k.ROOT / src).exists(), f"COPY {src}: not in the repository"
        assert not _ignored(src, patterns), f"COPY {src}: excluded by .dockerignore"
    for private in (".venv", ".git", ".tovholder", "tests", "bench/results", "deploy", ".env"):
        assert _ignored(private, patterns), f"{private} would be sent to the Docker build"


@pytest.mark.parametrize("broken,expected", [
    ("FROM python:3.11-slim\nCOPY . /app\nRUN pip install /app\nUSER 10001\nENTRYPOINT [\"tovholder\"]\nEXPOSE 8080\n",
     "not multi-stage"),
    ("FROM python:3.11-slim AS build\nRUN pip install x\nFROM python:3.11-slim\nCOPY --from=build /opt /opt\n"
     "USER tovholder\nENTRYPOINT [\"tovholder\"]\nEXPOSE 8080\n", "not a numeric uid"),
    ("FROM python:3.11-slim AS build\nRUN pip install x\nFROM python:3.11-slim\nCOPY --from=build /opt /opt\n"
     "ENTRYPOINT [\"tovholder\"]\nEXPOSE 8080\n", "no USER"),
    ("FROM python:3.11-slim AS build\nRUN pip install x\nFROM python:3.11-slim\nCOPY --from=build /opt /opt\n"
     "USER 0:0\nENTRYPOINT [\"tovholder\"]\nEXPOSE 8080\n", "USER is root"),
    ("FROM python:3.11 AS build\nRUN pip install x\nFROM python:3.11\nCOPY --from=build /opt /opt\n"
     "USER 10001\nENTRYPOINT [\"tovholder\"]\nEXPOSE 8080\n", "not slim"),
])
def test_broken_dockerfile_fails(broken, expected):
    assert any(expected in e for e in dockerfile_errors(broken))
