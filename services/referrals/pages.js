// The referrals pages (visitation's cases and intake, the flow report, the citizen's own case).
// A file, not inline script: the pages' Content-Security-Policy allows only scripts of this origin,
// so every handler is attached here (no onclick attributes), and generated rows carry data-*
// attributes that one delegated listener per section reads.
"use strict";

const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("tovholder_token") || "";
document.getElementById("save-token").addEventListener("click", () => {
  sessionStorage.setItem("tovholder_token", tokenInput.value.trim());
  load();
});

async function api(path, opts = {}) {
  const headers = Object.assign({"Authorization": "Bearer " + (sessionStorage.getItem("tovholder_token") || "")}, opts.headers || {});
  const r = await fetch(path, Object.assign({}, opts, {headers}));
  const msg = document.getElementById("msg");
  msg.textContent = "";
  if (!r.ok) {
    let d;
    try { d = (await r.json()).detail; } catch (e) { d = r.statusText; }
    msg.textContent = d;
    throw new Error(d);
  }
  return r;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
}

function json(method, body) {
  return {method, headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
}

// ------------------------------------------------------------------ visitation: cases and intake

const THEMES = ["praktiske_opgaver", "egenomsorg", "kommunikation", "mobilitet", "samfundsliv", "socialt_liv",
                "sundhed", "misbrug", "risikoadfaerd"];

const visitation = {
  init() {
    document.getElementById("status").addEventListener("change", () => load());
    document.getElementById("cases").addEventListener("click", ev => {
      const link = ev.target.closest("[data-show]");
      if (link) { ev.preventDefault(); visitation.show(link.dataset.show); }
    });
    const detail = document.getElementById("detail");
    detail.addEventListener("submit", ev => {
      if (ev.target.matches("[data-assess]")) visitation.assess(ev, ev.target.dataset.assess);
    });
    detail.addEventListener("click", ev => {
      const button = ev.target.closest("button[data-decide], button[data-act]");
      if (!button) return;
      const id = detail.dataset.referralId;
      if (button.dataset.act) visitation.act(id, button.dataset.act, {});
      else visitation.decide(id, button.dataset.decide, button.dataset.offer || null, button.dataset.basis,
                             button.dataset.full === "true");
    });
    document.getElementById("intake").addEventListener("submit", ev => visitation.intake(ev));
  },

  async load() {
    const s = document.getElementById("status").value;
    const rows = await (await api("/api/v1/referrals?limit=100" + (s ? "&status=" + encodeURIComponent(s) : ""))).json();
    document.getElementById("cases").innerHTML = rows.map(r => `<tr><td>${esc(r.received_at.slice(0, 10))}</td>
     <td><a href="#" data-show="${esc(r.referral_id)}">${esc(r.citizen_name)}</a></td><td>${esc(r.status)}</td>
     <td>${esc(r.offer_id)}</td><td>${esc(r.step ?? r.requested_step)}</td><td>${esc(r.follow_up_date)}</td></tr>`).join("");
  },

  async show(id) {
    const c = await (await api("/api/v1/referrals/" + encodeURIComponent(id))).json();
    let html = `<h2>${esc(c.citizen_name)} <span class="muted">(${esc(c.cpr_masked)})</span></h2>
     <p><b>${esc(c.status_text)}</b></p>
     ${(c.warnings || []).map(w => `<p class="warn">${esc(w)}</p>`).join("")}
     ${(c.deadlines || []).length ? `<h3>Frister</h3><table>${c.deadlines.map(d => `<tr><td>${esc(d.title)}</td>
       <td>${esc(d.due_on)}</td><td class="${d.overdue ? "warn" : ""}">${esc(d.time_left)}</td></tr>`).join("")}</table>` : ""}
     <p>Årsag: ${esc(c.reason)}</p><p>Borgerens ønsker: ${esc(c.citizen_wishes)}</p>
     ${(c.additions || []).length ? `<h3>Tilføjede henvisninger</h3><table>${c.additions.map(a => `<tr>
       <td>${esc(a.received_at.slice(0, 10))}</td><td>${esc(a.referrer_name || a.referrer_org || "visitationen")}</td>
       <td>${esc(a.reason)}</td></tr>`).join("")}</table>` : ""}
     <h3>Historik</h3><table>${c.history.map(h => `<tr><td>${esc(h.at.slice(0, 16).replace("T", " "))}</td><td>${esc(h.title)}</td>
     <td>${esc(h.note)}</td><td class="muted">${esc(h.internal_note)}</td><td class="muted">${esc(h.by)}</td></tr>`).join("")}</table>`;
    if (["screening", "received"].includes(c.status)) {
      if (!c.assessment) {
        html += `<h3>Udredning (VUM, 0–4)</h3><form data-assess="${esc(id)}">
         ${THEMES.map(t => `<label>${t}<input name="${t}" type="number" min="0" max="4"></label>`).join("")}
         <label>Borgerens ønsker (med borgerens ord)<textarea name="wishes" required></textarea></label>
         <label>Behov<textarea name="needs"></textarea></label><label>Ressourcer<textarea name="resources"></textarea></label>
         <label>Kendetegn (kommasepareret, fx tilbagetrukket, misbrug)<input name="traits"></label>
         <button type="submit">Gem udredning</button></form>`;
      } else {
        const m = await (await api("/api/v1/referrals/" + encodeURIComponent(id) + "/matches")).json();
        html += `<h3>Tilbud der passer</h3><table><tr><th>Tilbud</th><th>Trin</th><th>Ledige pladser</th><th>Passer</th><th>Bemærkninger</th><th></th></tr>
         ${m.offers.map(o => `<tr><td>${esc(o.name)}</td><td>${esc(o.step)}</td><td>${esc(o.free_places)}</td><td>${o.fits ? "ja" : "nej"}</td>
         <td>${o.exclusions.map(esc).join("; ")}<span class="warn">${o.warnings.map(esc).join("; ")}</span></td>
         <td>${o.fits ? `<button type="button" data-decide="granted" data-offer="${esc(o.offer_id)}" data-basis="${esc(o.legal_basis)}"
              data-full="${o.free_places === 0}">Bevilg</button>` : ""}</td></tr>`).join("")}</table>
         <button type="button" data-decide="refused" data-basis="${esc(c.requested_offer || "SEL §108")}">Afslå</button>`;
      }
    }
    if (["granted", "waiting"].includes(c.status)) {
      html += `<button type="button" data-act="move-in">Registrér indflytning i dag</button>`;
    }
    const detail = document.getElementById("detail");
    detail.dataset.referralId = id;
    detail.innerHTML = html;
  },

  async assess(ev, id) {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const scores = {};
    for (const t of THEMES) { if (f.get(t) !== "") scores[t] = Number(f.get(t)); }
    const traits = (f.get("traits") || "").split(",").map(s => s.trim()).filter(Boolean);
    await api("/api/v1/referrals/" + encodeURIComponent(id) + "/assessment",
              json("PUT", {scores, wishes: f.get("wishes"), needs: f.get("needs"), resources: f.get("resources"), traits}));
    await visitation.show(id);
  },

  async decide(id, decision, offer, basis, full) {
    const reason = prompt(decision === "granted" ? "Begrundelse for bevillingen (borgeren kan læse den):"
                                                 : "Begrundelse for afslaget (borgeren kan læse den):");
    if (!reason) return;
    const body = {decision, legal_basis: basis, reason};
    if (offer) { body.offer_id = offer; body.join_waitlist = full; }
    await visitation.act(id, "decision", body);
  },

  async act(id, path, body) {
    await api("/api/v1/referrals/" + encodeURIComponent(id) + "/" + path, json("POST", body));
    await load();
    await visitation.show(id);
  },

  async intake(ev) {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = {};
    for (const [k, v] of f.entries()) { if (v !== "") body[k] = k === "requested_step" ? Number(v) : v; }
    const r = await (await api("/api/v1/referrals", json("POST", body))).json();
    ev.target.reset();
    await load();
    await visitation.show(r.referral_id);
  },
};

// ------------------------------------------------------------------ the flow report

const REPORT_LABELS = {
  referrals_received: "Henvisninger modtaget", referrals_from_partners: "– fra samarbejdspartnere",
  referrals_from_staff: "– fra visitationen", citizens_referred: "Borgere henvist",
  decisions_granted: "Bevillinger", decisions_refused: "Afslag", citizens_decided: "Borgere med en afgørelse",
  citizens_granted: "– borgere bevilget", citizens_refused: "– borgere med afslag",
  placements_started: "Indflytninger", waiting_days_median: "Ventetid, median (dage)",
  waiting_days_p90: "Ventetid, 90 % (dage)", move_outs: "Udflytninger", move_outs_to_own_home: "– til egen bolig",
  move_outs_to_other_offer: "– til andet tilbud", move_outs_elsewhere: "– andet",
  step_downs: "Trin ned ad indsatstrappen",
  temporary_stays_drifting: "Midlertidige ophold (§ 107) i drift ved periodens slut",
};

const report = {
  init() {
    const y = new Date().getFullYear();
    const from = document.getElementById("from"), to = document.getElementById("to");
    if (!from.value) { from.value = y + "-01-01"; to.value = y + "-12-31"; }
    document.getElementById("show-report").addEventListener("click", () => load());
    document.getElementById("csv").addEventListener("click", () => report.csv());
  },

  period() {
    return "?from=" + encodeURIComponent(document.getElementById("from").value)
         + "&to=" + encodeURIComponent(document.getElementById("to").value);
  },

  async load() {
    const r = await (await api("/api/v1/reports/flow" + report.period())).json();
    document.getElementById("report").innerHTML = Object.entries(REPORT_LABELS)
      .map(([k, l]) => `<tr><th>${l}</th><td>${esc(r[k] ?? "–")}</td></tr>`).join("");
  },

  async csv() {
    const blob = await (await api("/api/v1/reports/flow" + report.period() + "&format=csv")).blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "flowrapport.csv";
    a.click();
  },
};

// ------------------------------------------------------------------ the citizen's own case

const citizen = {
  async load() {
    const cases = await (await api("/api/v1/me/referrals")).json();
    document.getElementById("mine").innerHTML = cases.length ? cases.map(c => `<article><h2>${esc(c.status_text)}</h2>
     ${c.refusal_reason ? `<p>Begrundelse: ${esc(c.refusal_reason)}</p><p>${esc(c.complaint_guidance)}</p>` : ""}
     ${c.next_follow_up ? `<p>Næste opfølgning: ${esc(c.next_follow_up)}</p>` : ""}
     <table>${c.history.map(h => `<tr><td>${esc(h.at.slice(0, 10))}</td><td>${esc(h.title)}</td><td>${esc(h.text)}</td></tr>`).join("")}</table>
     </article>`).join("") : "<p>Du har ingen sager hos visitationen.</p>";
  },
};

const page = {visitation, report, "min-sag": citizen}[document.body.dataset.page];

function load() {
  return page.load();
}

if (page.init) page.init();
if (tokenInput.value) load();
