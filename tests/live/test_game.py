"""The rules of a live game on the service level: opening, answering (the batch store), closing, ranks,
elimination and rescue, pause, late join, end — against PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from live import errors
from live.models import GameMode, LateJoin, LiveAnswer, LivePlayer, LiveQuestion, LiveScoring, Phase, PlayerStatus
from live.services import game as svc
from live.services.answers import AnswerItem, answers_store_batch
from live.services.players import player_join
from tests.factories import make_staff
from tests.live.conftest import join, make_game, right_and_wrong

pytestmark = pytest.mark.django_db


def answer(session, player, options, *, at=None, position=None):
    session.refresh_from_db()
    item = AnswerItem(session_id=session.pk, player_id=player.pk, position=position or session.position,
                      options=options, received_at=at or timezone.now())
    return answers_store_batch(items=[item])[0]


def test_created_game_has_its_questions_and_a_pin(game):
    assert game.phase == Phase.LOBBY
    assert len(game.pin) == 6
    assert game.question_count == 3
    questions = list(LiveQuestion.objects.filter(session=game).order_by("position"))
    assert [q.position for q in questions] == [1, 2, 3]
    for q in questions:
        assert q.correct_ids
        assert set(q.correct_ids) <= {o["id"] for o in q.snapshot["options"]}
        assert "fraction" not in str(q.snapshot)
        assert "explanation" not in q.snapshot
    assert AuditEvent.objects.filter(action="live.session_created", target_id=str(game.pk)).exists()


def test_foreign_organisation_cannot_create_or_drive(org_a, org_b, host, game):
    foreign = make_staff(org_b, "organiser")
    with pytest.raises(errors.NotHost):
        make_game(org_a, foreign)
    join(game, "An")
    with pytest.raises(errors.NotHost):
        svc.question_next(session_id=game.pk, actor=foreign)
    citizen_host = make_staff(org_a, "writer")  # a writer of the same organisation is no host either
    with pytest.raises(errors.NotHost):
        svc.question_next(session_id=game.pk, actor=citizen_host)


def test_a_whole_classic_game(game, host):
    a, b, c = join(game, "An"), join(game, "Bình"), join(game, "Chi")
    with pytest.raises(errors.WrongPhase):
        svc.question_close(session_id=game.pk, actor=host, force=True)  # nothing open yet
    frame = svc.question_next(session_id=game.pk, actor=host)
    assert frame["type"] == "live.question"
    assert frame["position"] == 1
    assert "correct" not in frame
    assert "key" not in frame["question"]
    right, wrong = right_and_wrong(game, 1)
    assert answer(game, a.player, right).status == "stored"
    assert answer(game, b.player, wrong).status == "stored"
    # Once per player: the same answer again is a duplicate, another one is refused.
    assert answer(game, a.player, right).status == "duplicate"
    assert answer(game, a.player, wrong).error.code == "already_answered"
    assert svc.question_close(session_id=game.pk) is False  # not due yet
    assert svc.question_close(session_id=game.pk, actor=host, force=True) is True
    game.refresh_from_db()
    assert game.phase == Phase.REVEAL
    q1 = LiveQuestion.objects.get(session=game, position=1)
    assert (q1.answered, q1.correct, q1.in_game) == (2, 1, 3)
    assert q1.distribution == {str(right[0]): 1, str(wrong[0]): 1}
    ranks = {p.display_name: (p.rank, p.score, p.streak) for p in LivePlayer.objects.filter(session=game)}
    assert ranks["An"] == (1, Decimal(1), 1)
    # Equal scores: Bình answered (a wrong answer, but in less than the limit), Chi did not: Bình ranks higher.
    assert (ranks["Bình"][0], ranks["Chi"][0]) == (2, 3)
    b_time = LivePlayer.objects.get(pk=b.player.pk).time_ms
    c_time = LivePlayer.objects.get(pk=c.player.pk).time_ms
    assert c_time == game.seconds_per_question * 1000
    assert b_time < c_time

    for position in (2, 3):
        svc.question_next(session_id=game.pk, actor=host)
        right, wrong = right_and_wrong(game, position)
        answer(game, a.player, right)
        answer(game, c.player, right)
        svc.question_close(session_id=game.pk, actor=host, force=True)
    with pytest.raises(errors.NoMoreQuestions):
        svc.question_next(session_id=game.pk, actor=host)
    final = svc.game_end(session_id=game.pk, actor=host)
    assert final["type"] == "live.finished"
    assert final["top"][0]["name"] == "An"
    standings = {p.display_name: (p.rank, p.score, p.correct_count) for p in LivePlayer.objects.filter(session=game)}
    assert standings == {"An": (1, Decimal(3), 3), "Chi": (2, Decimal(2), 2), "Bình": (3, Decimal(0), 0)}
    replay = svc.session_replay(session_id=game.pk)
    for player in LivePlayer.objects.filter(session=game):
        mine = replay[player.pk]
        assert (mine.score, mine.correct_count, mine.streak, mine.time_ms, mine.status) == (
            player.score, player.correct_count, player.streak, player.time_ms, player.status)


def test_late_answer_is_refused_and_not_counted(game, host):
    a = join(game, "An")
    svc.question_next(session_id=game.pk, actor=host)
    game.refresh_from_db()
    right, _ = right_and_wrong(game, 1)
    late = answer(game, a.player, right, at=game.deadline + dt.timedelta(milliseconds=1))
    assert late.status == "error"
    assert late.error.code == "deadline_passed"
    on_time = answer(game, a.player, right, at=game.deadline)
    assert on_time.status == "stored"
    svc.question_close(session_id=game.pk, now=game.deadline + dt.timedelta(milliseconds=300))
    # After the close even an answer stamped before the deadline is refused: the close counted what it saw.
    b = join(game, "Bình")
    refused = answer(game, b.player, right, at=game.deadline - dt.timedelta(seconds=1), position=1)
    assert refused.error.code == "deadline_passed"
    assert LiveAnswer.objects.filter(session=game).count() == 1


def test_answers_are_checked(game, host):
    a = join(game, "An")
    assert answer(game, a.player, [1], position=1).error.code == "question_not_open"  # lobby
    svc.question_next(session_id=game.pk, actor=host)
    right, wrong = right_and_wrong(game, 1)
    assert answer(game, a.player, [999_999]).error.code == "invalid_response"
    assert answer(game, a.player, right + wrong).error.code == "invalid_response"  # single choice: one option
    assert answer(game, a.player, right, position=2).error.code == "question_not_open"
    other_game = make_game(game.organisation, game.created_by, bank_size=3)
    stranger = join(other_game, "Lạ")
    item = AnswerItem(session_id=game.pk, player_id=stranger.player.pk, position=1, options=right,
                      received_at=timezone.now())
    assert answers_store_batch(items=[item])[0].error.code == "player_not_found"


def test_speed_points_and_streaks(org_a, host):
    session = make_game(org_a, host, scoring=LiveScoring.SPEED, streak_bonus=True)
    a = join(session, "An")
    for position in (1, 2, 3):
        svc.question_next(session_id=session.pk, actor=host)
        session.refresh_from_db()
        right, _ = right_and_wrong(session, position)
        # Answered a quarter of the way through: 1000 × (1 − 0.25/2) = 875, plus 100 per earlier correct one.
        at = session.opened_at + dt.timedelta(seconds=session.seconds_per_question / 4)
        answer(session, a.player, right, at=at)
        svc.question_close(session_id=session.pk, actor=host, force=True)
    points = list(LiveAnswer.objects.filter(player=a.player).order_by("position").values_list("points", flat=True))
    assert points == [Decimal("875"), Decimal("975"), Decimal("1075")]
    a.player.refresh_from_db()
    assert a.player.score == Decimal("2925")
    assert a.player.streak == 3


def test_pause_stops_the_clock(game, host):
    a = join(game, "An")
    svc.question_next(session_id=game.pk, actor=host)
    game.refresh_from_db()
    opened, deadline = game.opened_at, game.deadline
    paused_at = opened + dt.timedelta(seconds=5)
    svc.game_pause(session_id=game.pk, actor=host, now=paused_at)
    right, _ = right_and_wrong(game, 1)
    assert answer(game, a.player, right, at=paused_at + dt.timedelta(seconds=1)).error.code == "game_paused"
    assert svc.question_close(session_id=game.pk, now=deadline + dt.timedelta(seconds=1)) is False
    resumed_at = paused_at + dt.timedelta(seconds=60)
    svc.game_resume(session_id=game.pk, actor=host, now=resumed_at)
    game.refresh_from_db()
    assert game.deadline == deadline + dt.timedelta(seconds=60)
    assert game.opened_at == opened + dt.timedelta(seconds=60)
    assert answer(game, a.player, right, at=resumed_at + dt.timedelta(seconds=1)).status == "stored"
    assert LiveAnswer.objects.get(player=a.player).elapsed_ms == 6000  # the pause is not answer time


def test_elimination_and_rescue(org_a, host):
    session = make_game(org_a, host, count=3, mode=GameMode.ELIMINATION, late_join=LateJoin.LOBBY)
    players = [join(session, name) for name in ("An", "Bình", "Chi", "Dũng")]
    a, b, c, d = players
    svc.question_next(session_id=session.pk, actor=host)
    right, wrong = right_and_wrong(session, 1)
    answer(session, a.player, right)
    answer(session, b.player, right)
    answer(session, c.player, wrong)  # d does not answer: out as well
    svc.question_close(session_id=session.pk, actor=host, force=True)
    status = dict(LivePlayer.objects.filter(session=session).values_list("display_name", "status"))
    assert status == {"An": "active", "Bình": "active", "Chi": "eliminated", "Dũng": "eliminated"}
    # Joining is closed once an elimination game has started; an eliminated player cannot answer.
    with pytest.raises(errors.JoinClosed):
        player_join(session=session, nickname="Muộn")
    svc.question_next(session_id=session.pk, actor=host)
    right, wrong = right_and_wrong(session, 2)
    assert answer(session, c.player, right).error.code == "eliminated"
    with pytest.raises(errors.WrongPhase):  # no rescue while a question is open
        svc.players_rescue(session_id=session.pk, actor=host, kind="question", from_position=1)
    answer(session, a.player, right)
    answer(session, b.player, wrong)
    svc.question_close(session_id=session.pk, actor=host, force=True)
    # Rescue everybody eliminated on question 1.
    rescued = svc.players_rescue(session_id=session.pk, actor=host, kind="question", from_position=1)
    assert rescued["rescued"] == 2
    assert {pid for pid, _ in rescued["you"]} == {c.player.pk, d.player.pk}
    assert set(LivePlayer.objects.filter(session=session, status=PlayerStatus.ACTIVE)
               .values_list("display_name", flat=True)) == {"An", "Chi", "Dũng"}
    with pytest.raises(errors.RescueInvalid):  # nobody left eliminated on question 1
        svc.players_rescue(session_id=session.pk, actor=host, kind="question", from_position=1)
    # The best K by how far they got, then time: Bình (passed question 1) comes back first.
    svc.players_rescue(session_id=session.pk, actor=host, kind="best", count=1)
    assert LivePlayer.objects.get(pk=b.player.pk).status == PlayerStatus.ACTIVE
    svc.question_next(session_id=session.pk, actor=host)
    right, wrong = right_and_wrong(session, 3)
    answer(session, c.player, right)
    answer(session, b.player, right)
    answer(session, a.player, wrong)
    svc.question_close(session_id=session.pk, actor=host, force=True)
    svc.game_end(session_id=session.pk, actor=host)
    standing = {p.display_name: (p.status, p.score) for p in LivePlayer.objects.filter(session=session)}
    assert standing["Chi"] == ("active", Decimal(3))
    assert standing["Bình"] == ("active", Decimal(3))
    assert standing["An"] == ("eliminated", Decimal(2))
    assert standing["Dũng"][0] == "eliminated"
    ranks = dict(LivePlayer.objects.filter(session=session).values_list("display_name", "rank"))
    assert {ranks["Chi"], ranks["Bình"]} == {1, 2}
    assert ranks["An"] == 3
    replay = svc.session_replay(session_id=session.pk)
    for player in LivePlayer.objects.filter(session=session):
        assert (replay[player.pk].score, replay[player.pk].status) == (player.score, player.status)


def test_late_join_policy(game, host):
    join(game, "An")
    svc.question_next(session_id=game.pk, actor=host)
    late = join(game, "Bình")
    assert late.player.first_position == 1  # may still answer the open question
    assert LiveQuestion.objects.get(session=game, position=1).in_game == 2
    svc.question_close(session_id=game.pk, actor=host, force=True)
    later = join(game, "Chi")
    assert later.player.first_position == 2
    with pytest.raises(errors.NicknameTaken):
        join(game, "  chi ")
    with pytest.raises(errors.NicknameInvalid):
        join(game, "x")


def test_everyone_answered_is_flagged(game, host):
    a, b = join(game, "An"), join(game, "Bình")
    svc.question_next(session_id=game.pk, actor=host)
    right, _ = right_and_wrong(game, 1)
    assert answer(game, a.player, right).everyone_answered is False
    assert answer(game, b.player, right).everyone_answered is True


def test_end_closes_the_open_question_and_counts_it(game, host):
    a = join(game, "An")
    svc.question_next(session_id=game.pk, actor=host)
    right, _ = right_and_wrong(game, 1)
    answer(game, a.player, right)
    svc.game_end(session_id=game.pk, actor=host)
    game.refresh_from_db()
    a.player.refresh_from_db()
    assert game.phase == Phase.FINISHED
    assert a.player.score == 1
    assert a.player.rank == 1
    assert svc.game_end(session_id=game.pk, actor=host)["type"] == "live.finished"  # idempotent
    with pytest.raises(errors.SessionFinished):
        svc.question_next(session_id=game.pk, actor=host)
