"""Pyflakes' checks over the whole repository (ruff's F rules): undefined names, imports never used,
names redefined before use. An undefined name in a branch the tests rarely take (an ``except`` clause
naming an exception never imported) answers a real request with a 500; this finds it without running it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pyflakes_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--select", "F", "--output-format", "concise", "--no-cache", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
