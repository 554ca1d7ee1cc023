"""Simple pages on top of the JSON API: visitation's case list and intake, the flow report, and the
citizen's own case. The pages hold no data themselves; they call the API with the user's bearer
token (pasted once, kept in the tab's sessionStorage), so the API's access rules and audit apply.

The script and styles are files next to this module (``pages.js``, ``pages.css``), served under
``/static/``: the pages' Content-Security-Policy allows no inline script, style or ``onclick``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

pages = APIRouter(tags=["pages"], include_in_schema=False)
HERE = Path(__file__).parent
STATIC_FILES = {"pages.js": "text/javascript", "pages.css": "text/css"}

_BASE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/pages.css">
</head><body data-page="{page}">
<nav><a href="/visitation">Sager</a><a href="/visitation/report">Flowrapport</a><a href="/min-sag">Min sag</a></nav>
<h1>{title}</h1>
<p><label for="token">Adgangsnøgle (token)</label><input id="token" type="password" autocomplete="off">
<button type="button" id="save-token">Gem</button> <span id="msg" class="err" role="alert"></span></p>
{body}
<script src="/static/pages.js"></script>
</body></html>"""


def _page(page: str, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(_BASE.format(page=page, title=title, body=body))


@pages.get("/static/{name}")
async def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        return HTMLResponse("Ikke fundet.", status_code=404)
    return FileResponse(HERE / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=300"})


_CASES_BODY = """
<section><h2>Sagsliste</h2>
<label for="status">Status</label><select id="status"><option value="">alle</option>
<option>received</option><option>screening</option><option>granted</option><option>waiting</option>
<option>placed</option><option>refused</option><option>ended</option><option>withdrawn</option></select>
<table><thead><tr><th>Modtaget</th><th>Borger</th><th>Status</th><th>Tilbud</th><th>Trin</th><th>Opfølgning</th></tr></thead>
<tbody id="cases"></tbody></table></section>
<section id="detail"></section>
<section><h2>Ny henvisning</h2>
<form id="intake">
<label for="cpr">CPR-nummer</label><input id="cpr" name="cpr" required autocomplete="off">
<label for="citizen_name">Borgerens navn</label><input id="citizen_name" name="citizen_name" required>
<label for="reason">Årsag til henvisningen</label><textarea id="reason" name="reason" required></textarea>
<label for="citizen_wishes">Borgerens egne ønsker (med borgerens ord)</label><textarea id="citizen_wishes" name="citizen_wishes"></textarea>
<label for="requested_step">Ønsket trin (1–7)</label><input id="requested_step" name="requested_step" type="number" min="1" max="7">
<label for="requested_offer">Ønsket lovgrundlag</label><select id="requested_offer" name="requested_offer"><option value="">–</option>
<option>SEL §107</option><option>SEL §108</option><option>SEL §85</option><option>ABL §105 + SEL §85</option></select>
<button type="submit">Opret henvisning</button></form></section>"""


@pages.get("/visitation", response_class=HTMLResponse)
async def visitation_page() -> HTMLResponse:
    return _page("visitation", "Visitation", _CASES_BODY)


_REPORT_BODY = """
<label for="from">Fra</label><input id="from" type="date"><label for="to">Til</label><input id="to" type="date">
<button type="button" id="show-report">Vis</button> <button type="button" id="csv">Hent CSV</button>
<table><tbody id="report"></tbody></table>"""


@pages.get("/visitation/report", response_class=HTMLResponse)
async def report_page() -> HTMLResponse:
    return _page("report", "Flowrapport", _REPORT_BODY)


@pages.get("/min-sag", response_class=HTMLResponse)
async def citizen_page() -> HTMLResponse:
    return _page("min-sag", "Min sag", '<div id="mine"></div>')
