"""The pages of live games: creating a game, the staff pages scoped to the organisation, the QR code, joining by
PIN (anonymous or registered), the admin's isolation."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from live.models import JoinPolicy, LivePlayer, LiveSession
from live.services.players import cookie_name, player_from_token
from tests.contests.factories import ContestFactory, register
from tests.factories import CitizenProfileFactory, make_staff
from tests.live.conftest import join, make_game
from tests.realtime.conftest import neutral_bank
from tests.tenancy_harness import assert_admin_closed, assert_admin_isolated

pytestmark = pytest.mark.django_db


def test_host_creates_a_game_from_the_bank(client, org_a, host):
    neutral_bank(org_a, 6)
    client.force_login(host)
    page = client.get(reverse("live:new"))
    assert page.status_code == 200
    assert "Tạo trò chơi trực tiếp" in page.content.decode()
    response = client.post(reverse("live:new"), {
        "title": "Rung chuông vàng 2026", "organisation": org_a.pk, "mode": "classic", "scoring": "speed",
        "streak_bonus": "on", "seconds_per_question": 15, "join_policy": "anonymous", "late_join": "open",
        "count": 4})
    session = LiveSession.objects.get(title="Rung chuông vàng 2026")
    assert response.status_code == 302
    assert response["Location"] == reverse("live:host", args=[session.pk])
    assert (session.question_count, session.scoring, session.streak_bonus) == (4, "speed", True)
    host_page = client.get(response["Location"]).content.decode()
    assert session.pin in host_page
    assert 'data-ws-url="/ws/live/' in host_page
    assert "<script>" not in host_page
    assert " style=" not in host_page


def test_bad_settings_are_explained_and_change_nothing(client, org_a, host):
    neutral_bank(org_a, 2)
    client.force_login(host)
    response = client.post(reverse("live:new"), {
        "title": "Thiếu câu hỏi", "organisation": org_a.pk, "mode": "elimination", "scoring": "plain",
        "seconds_per_question": 15, "join_policy": "anonymous", "late_join": "open", "count": 2})
    assert response.status_code == 200
    assert "Rung chuông vàng: chỉ vào được trước khi bắt đầu" in response.content.decode()
    response = client.post(reverse("live:new"), {
        "title": "Quá nhiều", "organisation": org_a.pk, "mode": "classic", "scoring": "plain",
        "seconds_per_question": 15, "join_policy": "anonymous", "late_join": "open", "count": 9})
    assert "Ngân hàng chưa đủ câu hỏi" in response.content.decode()
    assert not LiveSession.objects.exists()


def test_staff_pages_are_scoped_to_the_organisation(client, org_b, game):
    urls = [reverse(name, args=[game.pk]) for name in ("live:host", "live:screen", "live:qr", "live:results",
                                                        "live:results_xlsx")]
    client.force_login(make_staff(org_b, "organiser", "judge"))
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.force_login(CitizenProfileFactory().user)
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.force_login(game.created_by)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_qr_code_encodes_the_join_link(client, game):
    client.force_login(game.created_by)
    response = client.get(reverse("live:qr", args=[game.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert body.startswith("<svg")
    assert "<path" in body
    screen = client.get(reverse("live:screen", args=[game.pk])).content.decode()
    assert f"/live/join/?pin={game.pin}" in screen
    assert game.pin in screen


def test_anonymous_player_joins_by_pin_and_gets_a_signed_cookie(client, game):
    page = client.get(reverse("live:join") + f"?pin={game.pin}").content.decode()
    assert game.title in page
    assert 'name="nickname"' in page
    response = client.post(reverse("live:join"), {"pin": game.pin, "nickname": "Cô giáo Lan"})
    assert response.status_code == 302
    assert response["Location"] == reverse("live:play", args=[game.pk])
    cookie = response.cookies[cookie_name(game.pk)]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    player = LivePlayer.objects.get(session=game)
    assert player_from_token(cookie.value, session_id=game.pk) == player.pk
    assert player_from_token(cookie.value, session_id=game.pk + 1) is None
    assert player_from_token(cookie.value[:-2] + "xx", session_id=game.pk) is None
    play = client.get(reverse("live:play", args=[game.pk])).content.decode()
    assert 'data-ws-url="/ws/live/' in play
    assert "live-player.js" in play
    # The same nickname again is refused with an explanation; a wrong PIN too.
    other = client.__class__()
    taken = other.post(reverse("live:join"), {"pin": game.pin, "nickname": "cô giáo lan"}).content.decode()
    assert "Biệt danh này đã có người dùng" in taken
    wrong = other.post(reverse("live:join"), {"pin": "000000", "nickname": "Ai đó"}).content.decode()
    assert "Không tìm thấy trò chơi" in wrong
    assert LivePlayer.objects.filter(session=game).count() == 1
    # No cookie: the play page sends you to the join page.
    assert other.get(reverse("live:play", args=[game.pk]))["Location"] == reverse("live:join")


def test_registered_game_needs_the_login_and_the_registration(client, org_a, host):
    contest = ContestFactory(organisation=org_a)
    session = make_game(org_a, host, join_policy=JoinPolicy.REGISTERED, contest=contest)
    page = client.get(reverse("live:join") + f"?pin={session.pin}").content.decode()
    assert "Đăng nhập để tham gia" in page
    citizen = CitizenProfileFactory(unit=org_a, user__full_name="Võ Thị Hoa").user
    client.force_login(citizen)
    refused = client.post(reverse("live:join"), {"pin": session.pin}).content.decode()
    assert "Bạn chưa đăng ký dự thi" in refused
    register(citizen, contest)
    response = client.post(reverse("live:join"), {"pin": session.pin})
    assert response.status_code == 302
    assert LivePlayer.objects.get(session=session).display_name == "Võ Thị Hoa"
    again = client.post(reverse("live:join"), {"pin": session.pin})  # a second join is the same player
    assert again.status_code == 302
    assert LivePlayer.objects.filter(session=session).count() == 1


def test_results_page_and_workbook(client, game, host):
    join(game, "An")
    from live.services import game as svc

    svc.game_end(session_id=game.pk, actor=host)
    client.force_login(host)
    page = client.get(reverse("live:results", args=[game.pk])).content.decode()
    assert "An" in page
    response = client.get(reverse("live:results_xlsx", args=[game.pk]))
    assert response.status_code == 200
    assert re.search(r"\.xlsx", response["Content-Disposition"])
    body = b"".join(response.streaming_content)
    assert body.startswith(b"PK")
    assert AuditEvent.objects.filter(action="live.results_exported").count() == 1


def test_admin_is_isolated(client, org_a, org_b, organiser_a, host):
    foreign_game = make_game(org_b, make_staff(org_b, "organiser"), bank_size=3)
    assert_admin_isolated(client, foreign_game, foreign_user=organiser_a)
    player = join(foreign_game, "Bình").player
    assert_admin_isolated(client, player, foreign_user=organiser_a)
    assert_admin_closed(client, foreign_game, user=CitizenProfileFactory().user)


def test_pages_speak_the_chosen_language(client, game):
    client.cookies["django_language"] = "en"
    page = client.get(reverse("live:join") + f"?pin={game.pin}").content.decode()
    assert "Join a game" in page
    assert "Nickname" in page
    client.cookies["django_language"] = "vi"
    assert "Tham gia trò chơi" in client.get(reverse("live:join")).content.decode()
