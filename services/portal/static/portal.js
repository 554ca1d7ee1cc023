// The portal's only script of its own (the CSP allows no inline script). Pages work without it;
// htmx (vendored) does the live parts.
