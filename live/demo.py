"""Demo data for live games: one game of the Department of Justice in its lobby ("Rung chuông vàng — thử"),
10 questions drawn from the demo bank, open to anybody with its PIN, so a visitor can play it with the
organiser's control page on one screen and a phone (or a second window) as a player.

Idempotent: the game is looked up by title among the organisation's games that are not over; a finished demo
game gets a fresh one on the next run.
"""

from __future__ import annotations

from typing import Any

from accounts.models import Organisation, User
from contest_engine.demo import demo_loader
from live.models import LiveSession, Phase
from live.services.sessions import session_create

TITLE = "Rung chuông vàng — trò chơi thử"
JUSTICE_SLUG = "can-tho-so-tu-phap"
ORGANISER_USERNAME = "btc.stp"


@demo_loader(order=50, name="live")
def load(stdout: Any) -> None:
    organisation = Organisation.objects.filter(slug=JUSTICE_SLUG).first()
    host = User.objects.filter(username=ORGANISER_USERNAME).first()
    if organisation is None or host is None:
        return
    session = (LiveSession.objects.filter(organisation=organisation, title=TITLE).exclude(phase=Phase.FINISHED)
               .first())
    if session is None:
        session = session_create(actor=host, organisation=organisation, title=TITLE, seconds_per_question=20,
                                 blueprint=[{"topic_id": None, "difficulty": None, "count": 10, "points": None}])
    stdout.write(f"Trò chơi trực tiếp: /live/{session.pk}/host/ (đăng nhập {ORGANISER_USERNAME}); "
                 f"người chơi vào /live/join/ với mã PIN {session.pin}")
