"""A finished game's results: saved as a round of its contest (ranking, workbook export, approval, certificates
— through the existing services), rescored identically by the contests strategies; anonymous games as a
workbook of their own."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from contests.models import Answer, Attempt, AttemptQuestion, Round
from contests.scoring import get_strategy
from contests.services.attempts.finish import attempt_score_inputs
from exports.selectors import export_target
from exports.workbook import results_workbook_write
from judging.services.approval import ranking_approve, ranking_propose, ranking_publish
from leaderboards.models import RankingEntry
from leaderboards.services.ranking import ranking_compute, ranking_current
from live import errors
from live.models import GameMode, JoinPolicy, LateJoin, LiveAnswer, LivePlayer, LiveScoring
from live.services import game as svc
from live.services.answers import AnswerItem, answers_store_batch
from live.services.results import session_results_save, session_workbook_write
from tests.contests.factories import ContestFactory, register
from tests.factories import CitizenProfileFactory, make_staff
from tests.live.conftest import join, make_game, right_and_wrong

pytestmark = pytest.mark.django_db

RULES = {
    "plain": {},
    "speed_streak": {"scoring": LiveScoring.SPEED, "streak_bonus": True},
    "speed": {"scoring": LiveScoring.SPEED},
    "elimination": {"mode": GameMode.ELIMINATION, "late_join": LateJoin.LOBBY},
}


def play(session, host, players, pattern):
    """Play every question: ``pattern[name][position-1]`` is "r" (right), "w" (wrong) or "-" (no answer); answers
    are given at different moments so that answer times differ."""
    for position in range(1, session.question_count + 1):
        svc.question_next(session_id=session.pk, actor=host)
        session.refresh_from_db()
        right, wrong = right_and_wrong(session, position)
        for offset, (name, player) in enumerate(players.items()):
            choice = pattern[name][position - 1]
            if choice == "-":
                continue
            at = session.opened_at + dt.timedelta(milliseconds=700 * offset + 150 * position)
            item = AnswerItem(session_id=session.pk, player_id=player.pk, position=position,
                              options=right if choice == "r" else wrong, received_at=at)
            answers_store_batch(items=[item])
        svc.question_close(session_id=session.pk, actor=host, force=True)
        if session.mode == GameMode.ELIMINATION and position == 1:
            svc.players_rescue(session_id=session.pk, actor=host, kind="question", from_position=1)
    svc.game_end(session_id=session.pk, actor=host)


@pytest.fixture
def registered(org_a, host):
    contest = ContestFactory(organisation=org_a, title="Hội thi tìm hiểu pháp luật")
    people = {name: CitizenProfileFactory(unit=org_a, user__full_name=name).user
              for name in ("Trần An", "Lê Bình", "Phạm Chi")}
    for user in people.values():
        register(user, contest)
    return contest, people


@pytest.mark.parametrize("rule", list(RULES))
def test_registered_game_is_saved_as_a_round_with_the_same_ranking(rule, org_a, host, registered):
    contest, people = registered
    session = make_game(org_a, host, count=3, join_policy=JoinPolicy.REGISTERED, contest=contest, **RULES[rule])
    players = {name: join(session, user=user).player for name, user in people.items()}
    assert players["Trần An"].display_name == "Trần An"
    play(session, host, players, {"Trần An": "rrr", "Lê Bình": "wrr", "Phạm Chi": "r-w"})
    round = session_results_save(session_id=session.pk)
    assert session_results_save(session_id=session.pk) == round  # idempotent
    assert round.contest_id == contest.pk
    assert round.closed_at is not None
    assert Attempt.objects.filter(round=round).count() == 3
    assert AttemptQuestion.objects.filter(attempt__round=round).count() == 9
    # Every answer given (elimination: Phạm Chi is out after question 2, so her third is refused).
    given = LiveAnswer.objects.filter(session=session).count()
    assert given == (7 if rule == "elimination" else 8)
    assert Answer.objects.filter(attempt__round=round).count() == given
    live = {p.registration_id: p for p in LivePlayer.objects.filter(session=session)}
    attempts = list(Attempt.objects.filter(round=round).select_related("round__contest"))
    # Scores recomputed by the round's own contests strategy (what a rescore after a correction runs) are the
    # game's scores.
    inputs, _answers = attempt_score_inputs(attempts)
    settings = round.settings
    for attempt in attempts:
        outcome = get_strategy(settings.scoring_rule).score(inputs[attempt.pk], partial=False,
                                                            time_limit_seconds=settings.time_limit_seconds)
        player = live[attempt.registration_id]
        assert (attempt.score, attempt.duration_ms) == (player.score, player.time_ms)
        assert outcome.score == player.score, (rule, player.display_name)
        assert outcome.correct_count == player.correct_count
    # The stored official ranking is the game's.
    ranking = ranking_current(round=round)
    entries = {e.attempt.registration_id: e.rank for e in RankingEntry.objects.filter(ranking=ranking)
               .select_related("attempt")}
    assert entries == {registration: p.rank for registration, p in live.items()}


def test_saved_round_exports_and_certifies_through_the_existing_services(org_a, host, registered, client):
    contest, people = registered
    session = make_game(org_a, host, count=3, join_policy=JoinPolicy.REGISTERED, contest=contest)
    players = {name: join(session, user=user).player for name, user in people.items()}
    play(session, host, players, {"Trần An": "rrr", "Lê Bình": "wrr", "Phạm Chi": "r-w"})
    round = session_results_save(session_id=session.pk)
    out = io.BytesIO()
    stats = results_workbook_write(target=export_target(round_id=round.pk), out=out, generated_by="thử",
                                   full_personal_data=True, now=timezone.now())
    assert stats.rows >= 3
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)["Xếp hạng"]
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True) if row[2]]
    assert names[:3] == ["Trần An", "Lê Bình", "Phạm Chi"]
    # Approval and certificates: an organiser sets the prizes, a judge proposes, another organiser approves.
    ranking = ranking_compute(round=round, actor=host, prize_places=1)
    judge = make_staff(org_a, "judge")
    other_organiser = make_staff(org_a, "organiser")
    ranking_propose(actor=judge, ranking=ranking)
    ranking_approve(actor=other_organiser, ranking=ranking)
    ranking_publish(actor=other_organiser, ranking=ranking)
    client.force_login(host)
    response = client.get(reverse("judging:certificate", kwargs={"ranking_id": ranking.pk, "position": 1}))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_anonymous_game_stays_in_its_tables_and_writes_a_workbook(game, host):
    players = {name: join(game, name).player for name in ("An", "=Bình", "Chi")}
    play(game, host, players, {"An": "rrr", "=Bình": "wr-", "Chi": "---"})
    assert session_results_save(session_id=game.pk) is None
    assert not Round.objects.filter(live_session=game).exists()
    out = io.BytesIO()
    assert session_workbook_write(session=game, out=out, actor=host) == 3
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    ranking = list(book["Xếp hạng"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[3]) for r in ranking] == [(1, "An", 3), (2, "=Bình", 1), (3, "Chi", 0)]
    cell = next(book["Xếp hạng"].iter_rows(min_row=3, max_row=3))[1]
    assert cell.data_type == "s"  # a nickname starting with "=" stays text, never a formula
    assert len(list(book["Bài làm"].iter_rows(min_row=2))) == 5
    questions = list(book["Câu hỏi"].iter_rows(min_row=2, values_only=True))
    assert [q[0] for q in questions] == [1, 2, 3]
    assert all(q[2] for q in questions)


def test_unfinished_game_is_not_saved(game):
    with pytest.raises(errors.WrongPhase):
        session_results_save(session_id=game.pk)


def test_scores_survive_in_numbers(game, host):
    players = {"An": join(game, "An").player}
    play(game, host, players, {"An": "r-r"})
    assert LivePlayer.objects.get(pk=players["An"].pk).score == Decimal(2)
