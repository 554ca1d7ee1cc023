// The portal's only script of its own (the CSP allows no inline script). Pages work without it;
// htmx (vendored) does the live parts. A live refresh of the work queue waits while the person is
// typing in it (a note, a status): the next change or poll brings the news.
document.addEventListener("htmx:beforeRequest", function (event) {
  var target = event.detail.elt;
  if (target && target.id === "koe" && target.contains(document.activeElement) &&
      /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
    event.preventDefault();
  }
});
