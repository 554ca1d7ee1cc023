"""What every portal page is checked for in real Chromium: axe-core (npm, from node_modules) finds no
serious or critical violation; at 390 px nothing scrolls sideways; no English word reaches the page;
no Content-Security-Policy violation; and a screenshot is written for a person to look at
(under $TOVHOLDER_SCREENSHOT_DIR, else the test's tmp dir)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from tests.oidc_support import ROOT, require_node_packages

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WATCH_VIOLATIONS = """() => { window.__violations = [];
  document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""
# Words that would mean English (a service's code or message, a framework default) reached a person.
# Danish words spelled like English ones (for, to, log, login, under, over, status, hospital, admin, visitation,
# plan, risiko …) are not listed.
ENGLISH = frozenset("""
the and of is are was were with your you this that these from not found error errors please sign signin logout
in out task tasks queue claim claimed release released complete completed open done cancelled in_progress
received screening granted refused waiting placed ended withdrawn routine urgent asap coordinator nurse consultant
citizen citizens unknown none null true false undefined required field invalid forbidden unauthorized token expired
missing loading submit cancel save delete edit back next previous page home welcome hello settings search filter
due overdue priority kind owner pool created updated yes no ok name role service unavailable timeout refused
""".split())
ALLOWED = frozenset({"tovholder", "fit", "la2", "ors", "srs", "sel", "abl", "vum", "cpr", "mitid"})
VISIBLE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[aria-label],[title],[placeholder],[alt]')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) if (el.getAttribute(a)) parts.push(el.getAttribute(a));
  }
  for (const el of document.querySelectorAll('input[type=submit],input[type=button]')) parts.push(el.value);
  return parts.join('\\n');
}"""


def english_words(text: str) -> list[str]:
    words = {w.lower() for w in re.findall(r"[A-Za-z_]+", text)}
    return sorted(w for w in words if w in ENGLISH and w not in ALLOWED)


def check_page(page, name: str, tmp_path: Path, *, allow: frozenset[str] = frozenset()) -> None:
    """Every check above, on the page as it is now; then the page at 390 px, and the screenshots."""
    require_node_packages("axe-core")
    page.wait_for_load_state("networkidle")
    found = [w for w in english_words(page.evaluate(VISIBLE_TEXT)) if w not in allow]
    assert found == [], f"{name}: English words on the page: {found}"
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("""async () => { const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')); }""")
    assert result == [], f"{name}: axe-core found serious/critical violations: {result}"
    violations = page.evaluate("window.__violations || []")
    assert violations == [], f"{name}: Content-Security-Policy violations: {violations}"
    folder = Path(os.environ.get("TOVHOLDER_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1]:
            # Name the outermost elements that stick out, so the message says what to fix.
            culprits = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1
                             && !(e.parentElement && e.parentElement.getBoundingClientRect().right > w + 1))
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
                                      + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)')""", widths[1])
            raise AssertionError(f"{name}: at 390 px the page is {widths[0]} px wide (scrolls sideways): {culprits}")
        page.screenshot(path=str(folder / f"{name}-390px.png"), full_page=True)
    finally:
        page.set_viewport_size(size)


@contextlib.contextmanager
def portal_page():
    """A page in Debian's Chromium (Danish, 1280 px wide) that records CSP violations; closed afterwards."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="da-DK", viewport={"width": 1280, "height": 900})
            page.add_init_script(f"({WATCH_VIOLATIONS})()")
            yield page
        finally:
            browser.close()


def demo_sign_in(page, portal_url: str, person: dict, role_label: str, then: str = "/") -> None:
    """Sign in on the local sign-in page as a demo person, landing on ``then``."""
    page.goto(f"{portal_url}/logind?naeste={then}")
    page.get_by_role("button", name=f"Log ind som {person['name']}, {role_label}").click()
