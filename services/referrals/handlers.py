"""Referrals consumes no events yet."""

from tovholder.messaging import EventRouter

events = EventRouter()
