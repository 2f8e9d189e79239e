"""Signals of contests, for the apps above it to listen to (contests never imports them: a lower app never
imports a higher one).

Both are sent INSIDE the transaction that made the change: a receiver schedules its work for after the
commit (``transaction.on_commit``), so nobody hears of a change that is then rolled back — realtime's
receivers (``realtime.receivers``) push to the attempt's open connections that way.
"""

from __future__ import annotations

from django.dispatch import Signal

# Attempts were scored and closed (client submit, the socket's batched submits, the deadline sweeper).
# kwargs: attempts (a list: one transaction's worth).
attempts_finalised = Signal()

# An attempt's terms changed (an organiser gave extra time, the round was extended): its open connections
# should refresh their snapshot. kwargs: attempt, reason.
attempt_changed = Signal()
