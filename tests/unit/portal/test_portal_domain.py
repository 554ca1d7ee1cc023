"""The portal's pure rules: where a sign-in may return to, Danish words and Copenhagen dates, the
navigation by role, and the vendored htmx being exactly the pinned npm package."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from services.portal.domain.navigation import may_sign_in, screens_for
from services.portal.domain.redirects import safe_next
from services.portal.domain.words import local_date, local_datetime, role_label, task_status_label

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("candidate", ["//evil.example", "https://evil.example/", "/\\evil", "javascript:alert(1)",
                                       "", None, "relative", "/a b", "/\tx", "/" + "x" * 600])
def test_only_paths_of_this_site_are_followed(candidate):
    assert safe_next(candidate) == "/"


@pytest.mark.parametrize("candidate", ["/", "/arbejdsko?kind=plan-follow-up", "/borgere/123"])
def test_own_paths_are_kept(candidate):
    assert safe_next(candidate) == candidate


def test_dates_are_danish_and_in_copenhagen_time():
    assert local_datetime(datetime(2026, 7, 1, 22, 30, tzinfo=timezone.utc)) == "02.07.2026 kl. 00:30"  # summer time
    assert local_datetime("2026-12-01T23:15:00Z") == "02.12.2026 kl. 00:15"
    assert local_date("2026-12-24") == "24.12.2026" and local_date(date(2027, 1, 2)) == "02.01.2027"
    assert local_date(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)) == "01.01.2027"
    assert local_datetime(None) == "–"


def test_codes_become_danish_words_and_unknown_codes_never_leak():
    assert role_label("nurse-consultant") == "Sygeplejekonsulent" and task_status_label("in_progress") == "I gang"
    assert role_label("robot") == "Ukendt rolle" and task_status_label("weird") == "Ukendt status"


def test_staff_and_citizens_may_sign_in_partners_may_not():
    assert all(may_sign_in(r) for r in ("visitation", "coordinator", "nurse-consultant", "admin", "citizen"))
    assert not may_sign_in("partner")
    assert [s.label for s in screens_for("coordinator")][:2] == ["Forside", "Arbejdskø"]
    assert screens_for("partner") == ()


def test_the_vendored_htmx_is_the_pinned_npm_package():
    package = json.loads((ROOT / "package.json").read_text())
    assert all(v[0].isdigit() for v in package["devDependencies"].values()), "pin exact npm versions"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/htmx.org"]["version"] == package["devDependencies"]["htmx.org"]
    installed = ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    if not installed.exists():
        pytest.skip("node_modules is not installed (make node_modules); the lock file pin was checked")
    vendored = ROOT / "services" / "portal" / "static" / "vendor"
    for source, name in ((installed, "htmx.min.js"),
                         (ROOT / "node_modules" / "htmx-ext-sse" / "dist" / "sse.min.js", "sse.min.js")):
        assert hashlib.sha256(source.read_bytes()).hexdigest() == hashlib.sha256((vendored / name).read_bytes()).hexdigest()
