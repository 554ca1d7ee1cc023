// Short polling: fetch the table fragment and swap it in only when the queue changed, without
// moving keyboard focus if it is inside the table.
(function () {
  var box = document.getElementById("koe");
  var status = document.getElementById("koe-status");
  var ms = parseInt(box.dataset.pollMs, 10) || 5000;
  async function refresh() {
    try {
      var url = "/fragmenter/arbejdsko" + (box.dataset.query ? "?" + box.dataset.query : "");
      var response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { status.textContent = "Du er logget ud. Genindlæs siden for at logge ind."; return; }
      var fingerprint = response.headers.get("X-Queue-Fingerprint");
      if (response.ok && fingerprint && fingerprint !== box.dataset.fingerprint) {
        var focusedInside = box.contains(document.activeElement);
        box.innerHTML = await response.text();
        box.dataset.fingerprint = fingerprint;
        status.textContent = "Arbejdskøen er opdateret " + new Date().toLocaleTimeString("da-DK") + ".";
        if (focusedInside) { var table = document.getElementById("koe-tabel"); if (table) table.focus(); }
      }
    } catch (e) { status.textContent = "Kunne ikke hente nye opgaver; prøver igen."; }
    setTimeout(refresh, ms);
  }
  setTimeout(refresh, ms);
})();
