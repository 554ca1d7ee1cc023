"""The portal's rules, pure: who sees which screen, Danish words for the services' codes, dates in
Copenhagen time, and which paths a sign-in may return to."""
