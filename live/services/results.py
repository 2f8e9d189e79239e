"""A finished game's results: saved as a contest result, or written as a workbook.

A game for registered contestants of a contest is saved as a **round of that contest** (``session_results_save``):
one finished attempt per player with the questions played (snapshot and key, shown at the moment each
question opened) and their answers (received at opening + server-measured answer time, with correctness and
points), scored with the contests strategy matching the game's rules (``live.scoring.saved_round_rule``, so a
rescore after a question correction recomputes the same scores), then officially closed by leaderboards
(``round_close``: the stored ranking, whose order is the game's: score, then answer time). From there the
round is like any other: the result workbook (exports), approval and publication, certificates (judging).

Anonymous games have no contestant to put in a contest's ranking: their results stay in the game's tables,
and ``session_workbook_write`` writes them (ranking, questions, answers) with the exports' formula-safe writer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import IO, Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from contests.models import (
    TIE_BREAK_DURATION_FIRST,
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    CountedAttempt,
    PartialCredit,
    Presentation,
    Registration,
    Round,
    SubmitKind,
)
from contests.services._common import audit
from contests.services.contests import round_accepting_until
from exports.writers import BOOL, DATETIME, INT, NUMBER, TEXT, Column, XlsxExport
from leaderboards.services.ranking import round_close
from live import errors
from live.models import JoinPolicy, LiveAnswer, LivePlayer, LiveQuestion, LiveScoring, LiveSession, Phase
from live.scoring import SPEED_MAX_POINTS, saved_round_rule

SESSION_RESULTS_SAVE_TASK = "live.session_results_save"


def _question_points(session: LiveSession) -> Decimal:
    return SPEED_MAX_POINTS if session.scoring == LiveScoring.SPEED else Decimal(1)


def session_results_save(*, session_id: int, now: dt.datetime | None = None) -> Round | None:
    """Save a finished game for registered contestants as a round of its contest, with its official ranking.
    Idempotent (the round of a saved game is returned). Returns None for an anonymous game (nothing to save
    into a contest). Raises WrongPhase for a game not finished."""
    now = now or timezone.now()
    with transaction.atomic():
        session = LiveSession.objects.select_for_update(of=("self",)).select_related("contest").get(pk=session_id)
        if session.phase != Phase.FINISHED:
            raise errors.WrongPhase()
        if session.result_round_id is not None:
            return session.result_round
        if session.join_policy != JoinPolicy.REGISTERED or session.contest is None:
            return None
        played = list(LiveQuestion.objects.filter(session=session, closed_at__isnull=False).order_by("position"))
        round = _round_create(session, played)
        attempt_count = _attempts_create(session, round, played)
        session.result_round, session.results_saved_at = round, now
        session.save(update_fields=["result_round", "results_saved_at"])
        audit(actor=None, action="live.results_saved", target=session, organisation=session.organisation_id,
              data={"round_id": round.pk, "attempts": attempt_count, "questions": len(played)})
    # The official close of the round: its stored ranking (leaderboards), in its own transaction.
    # The saved round's attempts are all finished and it has no network grace, so it closes just after its end
    # (at its end it would still be "accepting": contests.services.contests.round_accepting_until).
    round_close(round=round, now=max(now, round_accepting_until(round) + dt.timedelta(microseconds=1)))
    return Round.objects.select_related("contest").get(pk=round.pk)


def _round_create(session: LiveSession, played: list[LiveQuestion]) -> Round:
    started = session.started_at or session.ended_at or timezone.now()
    ended = max(session.ended_at or started, started + dt.timedelta(seconds=1))
    last = Round.objects.filter(contest=session.contest).aggregate(m=Max("position"))["m"] or 0
    count = max(len(played), 1)
    return Round.objects.create(
        contest=session.contest, name=(_("Trực tiếp: %(title)s") % {"title": session.title})[:200],
        position=last + 1, opens_at=started, closes_at=ended,
        time_limit_seconds=session.seconds_per_question * count,
        blueprint=[{"question_ids": [q.question_id for q in played], "points": str(_question_points(session))}]
        if played else [],
        max_attempts=1, counted_attempt=CountedAttempt.FIRST, prediction_enabled=False,
        scoring_rule=saved_round_rule(mode=session.mode, scoring=session.scoring, streak=session.streak_bonus),
        partial_credit=PartialCredit.ALL_OR_NOTHING, tie_break_order=list(TIE_BREAK_DURATION_FIRST),
        presentation=Presentation.ONE_AT_A_TIME, allow_answer_change=False, reveal_answers_after_attempt=True,
        grace_seconds=0)


def _attempts_create(session: LiveSession, round: Round, played: list[LiveQuestion]) -> int:
    players = list(LivePlayer.objects.filter(session=session, registration__isnull=False)
                   .select_related("registration").order_by("id"))
    if not players:
        return 0
    started = round.opens_at
    ended = session.ended_at or round.closes_at
    attempts = Attempt.objects.bulk_create([
        Attempt(round=round, registration_id=p.registration_id, user_id=p.registration.user_id,
                unit_id=p.registration.unit_id, number=1, status=AttemptStatus.SUBMITTED, started_at=started,
                deadline=ended, submitted_at=ended, submit_kind=SubmitKind.CLIENT, score=p.score,
                correct_count=p.correct_count, question_count=len(played), duration_ms=p.time_ms)
        for p in players], batch_size=2000)
    Registration.objects.filter(pk__in=[p.registration_id for p in players], frozen_at__isnull=True).update(
        frozen_at=ended)
    if not played:
        return len(attempts)
    points = _question_points(session)
    if connection.vendor == "postgresql":
        _copy_postgresql(session, round, points)
    else:
        _copy_python(session, players, attempts, played, points)
    return len(attempts)


def _copy_postgresql(session: LiveSession, round: Round, points: Decimal) -> None:
    """Questions and answers of every attempt in two INSERT … SELECT statements (no row passes through
    Python: 10,000 players × 20 questions is 200,000 rows of each)."""
    aq, answer, attempt = AttemptQuestion._meta.db_table, Answer._meta.db_table, Attempt._meta.db_table
    lq, la, lp = LiveQuestion._meta.db_table, LiveAnswer._meta.db_table, LivePlayer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {aq} (attempt_id, position, question_id, snapshot, key, points, shown_at) "
            f"SELECT a.id, q.position, q.question_id, q.snapshot, q.key, %s, q.opened_at FROM {attempt} a "
            f"JOIN {lq} q ON q.session_id = %s AND q.closed_at IS NOT NULL WHERE a.round_id = %s",
            [points, session.pk, round.pk])
        cursor.execute(
            f"INSERT INTO {answer} (attempt_id, attempt_question_id, response, client_seq, received_at, revision, "
            f"is_correct, points_awarded) "
            f"SELECT a.id, x.id, jsonb_build_object('options', to_jsonb(string_to_array(la.options, ',')::bigint[])), "
            f"la.position, q.opened_at + la.elapsed_ms * INTERVAL '1 millisecond', 1, la.is_correct, la.points "
            f"FROM {la} la JOIN {lp} p ON p.id = la.player_id "
            f"JOIN {attempt} a ON a.round_id = %s AND a.registration_id = p.registration_id "
            f"JOIN {aq} x ON x.attempt_id = a.id AND x.position = la.position "
            f"JOIN {lq} q ON q.session_id = la.session_id AND q.position = la.position "
            f"WHERE la.session_id = %s AND q.closed_at IS NOT NULL",
            [round.pk, session.pk])


def _copy_python(session: LiveSession, players: list[LivePlayer], attempts: list[Attempt],
                 played: list[LiveQuestion], points: Decimal) -> None:
    """The same rows through the ORM (the embedded default's SQLite: small games)."""
    by_player = dict(zip([p.pk for p in players], attempts, strict=True))
    questions = AttemptQuestion.objects.bulk_create([
        AttemptQuestion(attempt=a, position=q.position, question_id=q.question_id, snapshot=q.snapshot, key=q.key,
                        points=points, shown_at=q.opened_at) for a in attempts for q in played])
    by_pair = {(x.attempt_id, x.position): x for x in questions}
    opened = {q.position: q.opened_at for q in played}
    Answer.objects.bulk_create([
        Answer(attempt=by_player[la.player_id], attempt_question=by_pair[(by_player[la.player_id].pk, la.position)],
               response={"options": la.option_ids}, client_seq=la.position,
               received_at=opened[la.position] + dt.timedelta(milliseconds=la.elapsed_ms), revision=1,
               is_correct=la.is_correct, points_awarded=la.points)
        for la in LiveAnswer.objects.filter(session_id=session.pk, player_id__in=list(by_player),
                                            position__in=list(opened))])


# --------------------------------------------------------------------------------------------------
# Workbook (any game)
# --------------------------------------------------------------------------------------------------


def session_workbook_write(*, session: LiveSession, out: str | IO[bytes], actor: Any = None,
                           now: dt.datetime | None = None) -> int:
    """The game's results as xlsx (exports' constant-memory, formula-safe writer): information, ranking,
    questions, answers. Returns the number of ranked players. Audited (names are personal data)."""
    now = now or timezone.now()
    book = XlsxExport(out)
    book.add_info_sheet(_("Thông tin"), session.title, [
        (_("Đơn vị tổ chức"), session.organisation.name), (_("Mã PIN"), session.pin),
        (_("Hình thức"), session.get_mode_display()), (_("Cách tính điểm"), session.get_scoring_display()),
        (_("Số câu hỏi đã chơi"), session.position), (_("Bắt đầu"), session.started_at),
        (_("Kết thúc"), session.ended_at), (_("Xuất lúc"), now)])
    ranking = book.add_sheet(_("Xếp hạng"), [
        Column(_("Hạng"), INT, 7), Column(_("Tên"), TEXT, 30), Column(_("Đơn vị"), TEXT, 28),
        Column(_("Điểm"), NUMBER, 10), Column(_("Số câu đúng"), INT, 10),
        Column(_("Tổng thời gian trả lời (giây)"), NUMBER, 14), Column(_("Trạng thái"), TEXT, 12),
        Column(_("Bị loại ở câu"), INT, 10), Column(_("Vào từ câu"), INT, 10), Column(_("Vào lúc"), DATETIME, 20)])
    rows = 0
    for player in LivePlayer.objects.filter(session=session).select_related("registration__unit").order_by(
            "rank", "time_ms", "id").iterator(chunk_size=2000):
        unit = player.registration.unit.name if player.registration_id and player.registration.unit_id else ""
        ranking.append((player.rank, player.display_name, unit, player.score, player.correct_count,
                           player.time_ms / 1000, player.get_status_display(), player.eliminated_at,
                           player.first_position, player.joined_at))
        rows += 1
    ranking.finish()
    letters: dict[int, dict[int, str]] = {}
    questions = book.add_sheet(_("Câu hỏi"), [
        Column(_("Câu"), INT, 6), Column(_("Nội dung"), TEXT, 60), Column(_("Đáp án đúng"), TEXT, 14),
        Column(_("Số người trả lời"), INT, 12), Column(_("Số người trả lời đúng"), INT, 12),
        Column(_("Phân bố câu trả lời"), TEXT, 40), Column(_("Căn cứ pháp lý"), TEXT, 36)])
    for q in LiveQuestion.objects.filter(session=session, closed_at__isnull=False).order_by("position"):
        names = {o["id"]: "ABCDEFGHIJ"[i] for i, o in enumerate(q.snapshot.get("options", []))}
        letters[q.position] = names
        spread = " · ".join(f"{names.get(int(k), k)}: {n}" for k, n in sorted(
            q.distribution.items(), key=lambda kv: names.get(int(kv[0]), kv[0])))
        questions.append((q.position, strip_tags(q.snapshot.get("stem", "")),
                             ", ".join(names.get(i, str(i)) for i in q.correct_ids), q.answered, q.correct, spread,
                             (q.key or {}).get("citation", "")))
    questions.finish()
    answers = book.add_sheet(_("Bài làm"), [
        Column(_("Tên"), TEXT, 30), Column(_("Câu"), INT, 6), Column(_("Câu trả lời"), TEXT, 12),
        Column(_("Đúng"), BOOL, 8), Column(_("Điểm"), NUMBER, 10), Column(_("Thời gian trả lời (giây)"), NUMBER, 12)])
    for name, position, options, ok, points, elapsed in (
            LiveAnswer.objects.filter(session_id=session.pk).order_by("player__rank", "player_id", "position")
            .values_list("player__display_name", "position", "options", "is_correct", "points", "elapsed_ms")
            .iterator(chunk_size=5000)):
        names = letters.get(position, {})
        answers.append((name, position, ", ".join(names.get(int(o), o) for o in options.split(",") if o), ok,
                           points, elapsed / 1000))
    answers.finish()
    book.close()
    audit(actor=actor, action="live.results_exported", target=session, organisation=session.organisation_id,
          data={"rows": rows, "personal_fields": ["display_name", "unit"]})
    return rows
