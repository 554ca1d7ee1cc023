"""Simple pages on top of the JSON API: visitation's case list and intake, the flow report, and the
citizen's own case. The pages hold no data themselves; they call the API with the user's bearer
token (pasted once, kept in the tab's sessionStorage), so the API's access rules and audit apply."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

pages = APIRouter(tags=["pages"], include_in_schema=False)

_BASE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;max-width:72rem;color:#1b1b1b}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}}
label{{display:block;margin:.4rem 0 .1rem}}input,textarea,select{{width:100%;max-width:36rem;padding:.3rem}}
.warn{{color:#8a4b00}}.err{{color:#a00000}}.muted{{color:#666}}button{{padding:.35rem .9rem;margin:.3rem 0}}
nav a{{margin-right:1rem}}
</style></head><body>
<nav><a href="/visitation">Sager</a><a href="/visitation/report">Flowrapport</a><a href="/min-sag">Min sag</a></nav>
<h1>{title}</h1>
<p><label for="token">Adgangsnøgle (token)</label><input id="token" type="password" autocomplete="off">
<button onclick="saveToken()">Gem</button> <span id="msg" class="err" role="alert"></span></p>
{body}
<script>
const tokenInput=document.getElementById('token');tokenInput.value=sessionStorage.getItem('tovholder_token')||'';
function saveToken(){{sessionStorage.setItem('tovholder_token',tokenInput.value.trim());load();}}
async function api(path,opts={{}}){{
  const headers=Object.assign({{'Authorization':'Bearer '+(sessionStorage.getItem('tovholder_token')||'')}},opts.headers||{{}});
  const r=await fetch(path,Object.assign({{}},opts,{{headers}}));
  const msg=document.getElementById('msg');msg.textContent='';
  if(!r.ok){{let d;try{{d=(await r.json()).detail}}catch(e){{d=r.statusText}}msg.textContent=d;throw new Error(d);}}
  return r;
}}
function esc(s){{return String(s??'').replace(/[&<>"']/g,c=>({{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}})[c]);}}
{script}
if(tokenInput.value)load();
</script></body></html>"""


def _page(title: str, body: str, script: str) -> HTMLResponse:
    return HTMLResponse(_BASE.format(title=title, body=body, script=script))


_CASES_BODY = """
<section><h2>Sagsliste</h2>
<label for="status">Status</label><select id="status" onchange="load()"><option value="">alle</option>
<option>received</option><option>screening</option><option>granted</option><option>waiting</option>
<option>placed</option><option>refused</option><option>ended</option><option>withdrawn</option></select>
<table><thead><tr><th>Modtaget</th><th>Borger</th><th>Status</th><th>Tilbud</th><th>Trin</th><th>Opfølgning</th></tr></thead>
<tbody id="cases"></tbody></table></section>
<section id="detail"></section>
<section><h2>Ny henvisning</h2>
<form id="intake" onsubmit="intake(event)">
<label for="cpr">CPR-nummer</label><input id="cpr" name="cpr" required autocomplete="off">
<label for="citizen_name">Borgerens navn</label><input id="citizen_name" name="citizen_name" required>
<label for="reason">Årsag til henvisningen</label><textarea id="reason" name="reason" required></textarea>
<label for="citizen_wishes">Borgerens egne ønsker (med borgerens ord)</label><textarea id="citizen_wishes" name="citizen_wishes"></textarea>
<label for="requested_step">Ønsket trin (1–7)</label><input id="requested_step" name="requested_step" type="number" min="1" max="7">
<label for="requested_offer">Ønsket lovgrundlag</label><select id="requested_offer" name="requested_offer"><option value="">–</option>
<option>SEL §107</option><option>SEL §108</option><option>SEL §85</option><option>ABL §105 + SEL §85</option></select>
<button type="submit">Opret henvisning</button></form></section>"""

_CASES_SCRIPT = """
async function load(){
  const s=document.getElementById('status').value;
  const rows=await (await api('/api/v1/referrals?limit=100'+(s?'&status='+s:''))).json();
  document.getElementById('cases').innerHTML=rows.map(r=>`<tr><td>${esc(r.received_at.slice(0,10))}</td>
   <td><a href="#" onclick="show('${r.referral_id}');return false">${esc(r.citizen_name)}</a></td><td>${esc(r.status)}</td>
   <td>${esc(r.offer_id)}</td><td>${esc(r.step??r.requested_step)}</td><td>${esc(r.follow_up_date)}</td></tr>`).join('');
}
async function show(id){
  const c=await (await api('/api/v1/referrals/'+id)).json();
  let html=`<h2>${esc(c.citizen_name)} <span class="muted">(${esc(c.cpr_masked)})</span></h2>
   <p><b>${esc(c.status_text)}</b></p><p>Årsag: ${esc(c.reason)}</p><p>Borgerens ønsker: ${esc(c.citizen_wishes)}</p>
   <h3>Historik</h3><table>${c.history.map(h=>`<tr><td>${esc(h.at.slice(0,16).replace('T',' '))}</td><td>${esc(h.title)}</td>
   <td>${esc(h.note)}</td><td class="muted">${esc(h.internal_note)}</td><td class="muted">${esc(h.by)}</td></tr>`).join('')}</table>`;
  if(['screening','received'].includes(c.status)){
    if(!c.assessment){
      html+=`<h3>Udredning (VUM, 0–4)</h3><form onsubmit="assess(event,'${id}')">
       ${THEMES.map(t=>`<label>${t}<input name="${t}" type="number" min="0" max="4"></label>`).join('')}
       <label>Borgerens ønsker (med borgerens ord)<textarea name="wishes" required></textarea></label>
       <label>Behov<textarea name="needs"></textarea></label><label>Ressourcer<textarea name="resources"></textarea></label>
       <label>Kendetegn (kommasepareret, fx tilbagetrukket, misbrug)<input name="traits"></label>
       <button type="submit">Gem udredning</button></form>`;
    } else {
      const m=await (await api('/api/v1/referrals/'+id+'/matches')).json();
      html+=`<h3>Tilbud der passer</h3><table><tr><th>Tilbud</th><th>Trin</th><th>Ledige pladser</th><th>Passer</th><th>Bemærkninger</th><th></th></tr>
       ${m.offers.map(o=>`<tr><td>${esc(o.name)}</td><td>${o.step}</td><td>${o.free_places}</td><td>${o.fits?'ja':'nej'}</td>
       <td>${o.exclusions.map(esc).join('; ')}<span class="warn">${o.warnings.map(esc).join('; ')}</span></td>
       <td>${o.fits?`<button onclick="decide('${id}','granted','${esc(o.offer_id)}','${esc(o.legal_basis)}',${o.free_places===0})">Bevilg</button>`:''}</td></tr>`).join('')}</table>
       <button onclick="decide('${id}','refused',null,'${esc(c.requested_offer||'SEL §108')}',false)">Afslå</button>`;
    }
  }
  if(['granted','waiting'].includes(c.status)){
    html+=`<button onclick="act('${id}','move-in',{})">Registrér indflytning i dag</button>`;
  }
  document.getElementById('detail').innerHTML=html;
}
const THEMES=['praktiske_opgaver','egenomsorg','kommunikation','mobilitet','samfundsliv','socialt_liv','sundhed','misbrug','risikoadfaerd'];
async function assess(ev,id){
  ev.preventDefault();const f=new FormData(ev.target);const scores={};
  for(const t of THEMES){if(f.get(t)!=='')scores[t]=Number(f.get(t));}
  const traits=(f.get('traits')||'').split(',').map(s=>s.trim()).filter(Boolean);
  await api('/api/v1/referrals/'+id+'/assessment',{method:'PUT',headers:{'Content-Type':'application/json'},
    body:JSON.stringify({scores,wishes:f.get('wishes'),needs:f.get('needs'),resources:f.get('resources'),traits})});
  await show(id);
}
async function decide(id,decision,offer,basis,full){
  const reason=prompt(decision==='granted'?'Begrundelse for bevillingen (borgeren kan læse den):':'Begrundelse for afslaget (borgeren kan læse den):');
  if(!reason)return;
  const body={decision,legal_basis:basis,reason};
  if(offer){body.offer_id=offer;body.join_waitlist=full;}
  await act(id,'decision',body);
}
async function act(id,path,body){
  await api('/api/v1/referrals/'+id+'/'+path,{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)});
  await load();await show(id);
}
async function intake(ev){
  ev.preventDefault();const f=new FormData(ev.target);const body={};
  for(const [k,v] of f.entries()){if(v!=='')body[k]=k==='requested_step'?Number(v):v;}
  const r=await (await api('/api/v1/referrals',{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)})).json();
  ev.target.reset();await load();await show(r.referral_id);
}"""


@pages.get("/visitation", response_class=HTMLResponse)
async def visitation_page() -> HTMLResponse:
    return _page("Visitation", _CASES_BODY, _CASES_SCRIPT)


_REPORT_BODY = """
<label for="from">Fra</label><input id="from" type="date"><label for="to">Til</label><input id="to" type="date">
<button onclick="load()">Vis</button> <button onclick="csv()">Hent CSV</button>
<table><tbody id="report"></tbody></table>"""

_REPORT_SCRIPT = """
const y=new Date().getFullYear();
if(!document.getElementById('from').value){document.getElementById('from').value=y+'-01-01';document.getElementById('to').value=y+'-12-31';}
const LABELS={referrals_received:'Henvisninger modtaget',referrals_from_partners:'– fra samarbejdspartnere',
 referrals_from_staff:'– fra visitationen',decisions_granted:'Bevillinger',decisions_refused:'Afslag',
 placements_started:'Indflytninger',waiting_days_median:'Ventetid, median (dage)',waiting_days_p90:'Ventetid, 90 % (dage)',
 move_outs:'Udflytninger',move_outs_to_own_home:'– til egen bolig',move_outs_to_other_offer:'– til andet tilbud',
 move_outs_elsewhere:'– andet',step_downs:'Trin ned ad indsatstrappen'};
function q(){return '?from='+document.getElementById('from').value+'&to='+document.getElementById('to').value;}
async function load(){
  const r=await (await api('/api/v1/reports/flow'+q())).json();
  document.getElementById('report').innerHTML=Object.entries(LABELS).map(([k,l])=>`<tr><th>${l}</th><td>${esc(r[k]??'–')}</td></tr>`).join('');
}
async function csv(){
  const blob=await (await api('/api/v1/reports/flow'+q()+'&format=csv')).blob();
  const a=document.createElement('a');a.href=URL.createObjectURL(blob);a.download='flowrapport.csv';a.click();
}"""


@pages.get("/visitation/report", response_class=HTMLResponse)
async def report_page() -> HTMLResponse:
    return _page("Flowrapport", _REPORT_BODY, _REPORT_SCRIPT)


_CITIZEN_SCRIPT = """
async function load(){
  const cases=await (await api('/api/v1/me/referrals')).json();
  document.getElementById('mine').innerHTML=cases.length?cases.map(c=>`<article><h2>${esc(c.status_text)}</h2>
   ${c.refusal_reason?`<p>Begrundelse: ${esc(c.refusal_reason)}</p><p>${esc(c.complaint_guidance)}</p>`:''}
   ${c.next_follow_up?`<p>Næste opfølgning: ${esc(c.next_follow_up)}</p>`:''}
   <table>${c.history.map(h=>`<tr><td>${esc(h.at.slice(0,10))}</td><td>${esc(h.title)}</td><td>${esc(h.text)}</td></tr>`).join('')}</table>
   </article>`).join(''):'<p>Du har ingen sager hos visitationen.</p>';
}"""


@pages.get("/min-sag", response_class=HTMLResponse)
async def citizen_page() -> HTMLResponse:
    return _page("Min sag", '<div id="mine"></div>', _CITIZEN_SCRIPT)
