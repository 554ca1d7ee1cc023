// The portal's only script of its own (the CSP allows no inline script). Pages work without it;
// htmx (vendored) does the live parts. A live refresh of the work queue waits while the person is
// typing in it (a note, a status) — neither starts nor, if already under way, replaces what they typed:
// the next change or poll brings the news.
function tovholderQueueBusy(queue) {
  var active = document.activeElement;
  if (queue.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
    return true;
  }
  var fields = queue.querySelectorAll("input[type=text], input:not([type]), textarea");
  for (var i = 0; i < fields.length; i++) {
    if (fields[i].value !== fields[i].defaultValue) {
      return true;  // typed but not saved yet
    }
  }
  return false;
}

document.addEventListener("htmx:beforeRequest", function (event) {
  var source = event.detail.elt;
  if (source && source.id === "koe" && tovholderQueueBusy(source)) {
    event.preventDefault();
  }
});

document.addEventListener("htmx:beforeSwap", function (event) {
  var source = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (source && source.id === "koe" && tovholderQueueBusy(source)) {
    event.detail.shouldSwap = false;
  }
});
