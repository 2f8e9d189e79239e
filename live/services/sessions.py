"""Creating a live game: settings checked, questions drawn from the bank once for everybody, a PIN."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role
from accounts.tenancy import has_role
from contests import errors as contest_errors
from contests.blueprints import blueprint_fixed_versions
from contests.models import Contest, Round, validate_blueprint
from contests.services._common import audit, resolve_now
from contests.services.attempts.start import CHOICE_TYPES, SHUFFLED_TYPES, snapshot_question
from live import errors
from live.models import (
    MAX_QUESTIONS,
    MAX_SECONDS_PER_QUESTION,
    MIN_SECONDS_PER_QUESTION,
    GameMode,
    JoinPolicy,
    LateJoin,
    LiveQuestion,
    LiveScoring,
    LiveSession,
)
from questionbank.models import Question
from questionbank.selectors import questions_available_for

# Who hosts a game of an organisation (opens it, drives it, sees its results).
HOST_ROLES = frozenset({Role.ORGANISER, Role.JUDGE})
PIN_ATTEMPTS = 20


def is_host(user: Any, organisation_id: int) -> bool:
    return has_role(user, organisation_id, HOST_ROLES)


def require_host(user: Any, organisation_id: int) -> None:
    if not is_host(user, organisation_id):
        raise errors.NotHost()


def correct_option_ids(qtype: str, key: dict[str, Any]) -> list[int]:
    """The options a fully correct answer consists of (what the reveal shows as the answer)."""
    fractions = {int(k): float(v) for k, v in key.get("options", {}).items()}
    if qtype == "multiple":
        return sorted(k for k, f in fractions.items() if f > 0)
    return sorted(k for k, f in fractions.items() if f >= 1)


def questions_draw(*, organisation: Organisation, blueprint: list[dict], rng: random.Random) -> list[Any]:
    """Bank questions for a blueprint (contests' format: random draws by topic and difficulty, fixed question
    ids), choice questions only, no question family twice, in blueprint order. Raises NotEnoughQuestions."""
    try:
        fixed = _fixed_questions(organisation=organisation, blueprint=blueprint)
    except contest_errors.BlueprintUnsatisfiable as exc:
        raise errors.NotEnoughQuestions(exc.message) from exc
    used = {family for _version, family in fixed.values()}
    chosen: list[int] = []
    for draw in blueprint:
        if "question_ids" in draw:
            chosen.extend(fixed[int(q)][0] for q in draw["question_ids"])  # the version in force
            continue
        topic = draw.get("topic_id")
        by_family: dict[int, list[int]] = defaultdict(list)
        for qid, family in (questions_available_for(organisation=organisation,
                                                    topic_ids=[topic] if topic is not None else None,
                                                    difficulty=draw.get("difficulty") or None)
                            .filter(type__in=CHOICE_TYPES).order_by("id").values_list("id", "family_id")):
            family = family or qid
            if family not in used:
                by_family[family].append(qid)
        count = int(draw["count"])
        if len(by_family) < count:
            raise errors.NotEnoughQuestions()
        for family in rng.sample(sorted(by_family), count):
            used.add(family)
            chosen.append(rng.choice(by_family[family]))
    if not chosen or len(chosen) > MAX_QUESTIONS:
        raise errors.SettingsInvalid(_("Trò chơi cần từ 1 đến %(max)s câu hỏi.") % {"max": MAX_QUESTIONS})
    loaded = Question.objects.prefetch_related("options", "media").in_bulk(chosen)
    return [loaded[qid] for qid in chosen]


def _fixed_questions(*, organisation: Organisation, blueprint: list[dict]) -> dict[int, tuple[int, int]]:
    """{named id: (version in force, family)} of the fixed questions (contests.blueprints)."""
    found = blueprint_fixed_versions(organisation=organisation, blueprint=blueprint)
    versions = {version: named for named, (version, _family) in found.items()}
    not_choice = sorted(versions[qid] for qid in Question.objects.filter(pk__in=list(versions))
                        .exclude(type__in=CHOICE_TYPES).values_list("id", flat=True))
    if not_choice:
        raise errors.NotEnoughQuestions(
            _("Trò chơi trực tiếp chỉ dùng câu hỏi trắc nghiệm; không dùng được: %(ids)s.")
            % {"ids": ", ".join(f"#{q}" for q in not_choice)})
    return found


def _check_settings(*, organisation: Organisation, contest: Contest | None, source_round: Round | None, mode: str,
                    scoring: str, streak_bonus: bool, seconds: int, join_policy: str, late_join: str) -> None:
    if mode not in GameMode.values or scoring not in LiveScoring.values or join_policy not in JoinPolicy.values \
            or late_join not in LateJoin.values:
        raise errors.SettingsInvalid()
    if not MIN_SECONDS_PER_QUESTION <= seconds <= MAX_SECONDS_PER_QUESTION:
        raise errors.SettingsInvalid(_("Thời gian mỗi câu phải từ %(min)s đến %(max)s giây.") % {
            "min": MIN_SECONDS_PER_QUESTION, "max": MAX_SECONDS_PER_QUESTION})
    if contest is not None and contest.organisation_id != organisation.pk:
        raise errors.SettingsInvalid(_("Cuộc thi không thuộc đơn vị tổ chức trò chơi."))
    if source_round is not None and source_round.contest.organisation_id != organisation.pk:
        raise errors.SettingsInvalid(_("Đợt thi không thuộc đơn vị tổ chức trò chơi."))
    if join_policy == JoinPolicy.REGISTERED and contest is None:
        raise errors.SettingsInvalid(_("Trò chơi chỉ dành cho thí sinh đã đăng ký cần chọn cuộc thi."))
    if mode == GameMode.ELIMINATION and (late_join != LateJoin.LOBBY or scoring != LiveScoring.PLAIN
                                         or streak_bonus):
        raise errors.SettingsInvalid(_("Rung chuông vàng: chỉ vào được trước khi bắt đầu, mỗi câu đúng 1 điểm."))
    if streak_bonus and scoring != LiveScoring.SPEED:
        raise errors.SettingsInvalid(_("Thưởng chuỗi câu đúng chỉ dùng với cách tính điểm theo tốc độ."))


def _new_pin() -> str:
    return f"{secrets.randbelow(900_000) + 100_000}"


def session_create(*, actor: Any, organisation: Organisation, title: str, mode: str = GameMode.CLASSIC,
                   scoring: str = LiveScoring.PLAIN, streak_bonus: bool = False, seconds_per_question: int = 20,
                   join_policy: str = JoinPolicy.ANONYMOUS, late_join: str = LateJoin.OPEN,
                   contest: Contest | None = None, source_round: Round | None = None,
                   blueprint: list[dict] | None = None, seed: int | None = None,
                   now: dt.datetime | None = None) -> LiveSession:
    """Open a live game of ``organisation`` in its lobby, with its questions drawn now (the same questions
    and option order for every player; ``seed`` makes the draw reproducible).

    Questions come from ``source_round``'s blueprint or from ``blueprint`` (contests' format). Raises NotHost
    (``actor`` is not an organiser or judge of the organisation), SettingsInvalid, NotEnoughQuestions.
    """
    now = resolve_now(now)
    require_host(actor, organisation.pk)
    title = (title or "").strip()[:200]
    if not title:
        raise errors.SettingsInvalid(_("Cần đặt tên trò chơi."))
    if source_round is not None:
        source_round = Round.objects.select_related("contest").get(pk=source_round.pk)
        blueprint = source_round.settings.blueprint
        contest = contest or source_round.contest
    _check_settings(organisation=organisation, contest=contest, source_round=source_round, mode=mode,
                    scoring=scoring, streak_bonus=streak_bonus, seconds=seconds_per_question,
                    join_policy=join_policy, late_join=late_join)
    try:
        validate_blueprint(blueprint)
    except ValidationError as exc:
        raise errors.SettingsInvalid(" ".join(exc.messages)) from exc
    seed = secrets.randbits(63) if seed is None else seed
    rng = random.Random(seed)
    questions = questions_draw(organisation=organisation, blueprint=blueprint or [], rng=rng)
    for _attempt in range(PIN_ATTEMPTS):
        try:
            with transaction.atomic():
                session = LiveSession.objects.create(
                    organisation=organisation, contest=contest, source_round=source_round, title=title,
                    pin=_new_pin(), created_by=actor if getattr(actor, "pk", None) else None, mode=mode,
                    scoring=scoring, streak_bonus=streak_bonus, seconds_per_question=seconds_per_question,
                    join_policy=join_policy, late_join=late_join, question_count=len(questions))
                LiveQuestion.objects.bulk_create([_live_question(session, position, question, rng)
                                                  for position, question in enumerate(questions, start=1)])
                audit(actor=actor, action="live.session_created", target=session, organisation=organisation.pk,
                      data={"questions": len(questions), "mode": mode, "scoring": scoring,
                            "join_policy": join_policy, "seed": seed,
                            "source_round_id": source_round.pk if source_round else None})
                return session
        except IntegrityError:  # the random PIN is in use by an open game: draw another
            continue
    raise errors.SettingsInvalid(_("Không tạo được mã PIN, vui lòng thử lại."))


def _live_question(session: LiveSession, position: int, question: Any, rng: random.Random) -> LiveQuestion:
    snapshot, key = snapshot_question(question)
    if question.type in SHUFFLED_TYPES and snapshot.get("options"):
        # One order for everybody (the projector and the phones show the same A, B, C, D), not the writer's.
        snapshot["options"] = rng.sample(snapshot["options"], len(snapshot["options"]))
    return LiveQuestion(session=session, position=position, question=question, snapshot=snapshot, key=key,
                        correct_ids=correct_option_ids(question.type, key), points=question.default_points)
