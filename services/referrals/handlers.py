"""Referrals consumes no events: visitation is where a citizen's pathway starts."""

from tovholder.messaging import EventRouter

events = EventRouter()
