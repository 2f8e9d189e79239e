"""Read-side queries on the question bank shared by contests, the admin, views and commands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Organisation, Role
from accounts.tenancy import organisation_ids_for
from questionbank import dedupe
from questionbank.models import Question, QuestionSimilarityKey, QuestionStatus, Topic, Visibility


def questions_visible_q(organisation_ids: Iterable[int]) -> Q:
    """Own questions of these organisations (any visibility) plus every organisation's shared ones."""
    return Q(organisation_id__in=list(organisation_ids)) | Q(visibility=Visibility.SHARED)


# Roles that work on the shared bank and so may read other organisations' shared questions with their keys.
# Holders of these roles may not compete (contests.services.registrations.contest_eligibility_check).
SHARED_BANK_ROLES = frozenset({Role.WRITER, Role.REVIEWER})


def user_reads_shared_bank(user: Any) -> bool:
    """Whether ``user`` may read every organisation's *shared* questions (answer keys included)."""
    return bool(getattr(user, "is_superuser", False) or organisation_ids_for(user, SHARED_BANK_ROLES))


def questions_visible_to_user(*, user: Any, roles: Iterable[str] | None = None) -> QuerySet[Question]:
    """What a staff user may *see* (not edit): their organisations' questions, plus all shared ones for
    writers and reviewers. Organisers and judges of other organisations never read a shared key: they
    may compete in contests that draw shared questions."""
    qs = Question.objects.all()
    if getattr(user, "is_superuser", False):
        return qs
    own = organisation_ids_for(user, roles)
    if user_reads_shared_bank(user):
        return qs.filter(questions_visible_q(own))
    return qs.filter(organisation_id__in=own)


def topic_descendant_ids(topic_ids: Iterable[int]) -> set[int]:
    """The topics and all their descendants (breadth-first over the small topic tree)."""
    found = set(topic_ids)
    frontier = set(found)
    while frontier:
        children = set(Topic.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= children
        frontier = children
    return found


def questions_available_for(*, organisation: Organisation, topic_ids: Iterable[int] | None = None,
                            difficulty: str | Sequence[str] | None = None,
                            include_subtopics: bool = True) -> QuerySet[Question]:
    """Questions that may enter a contest of ``organisation``: approved, current versions, owned by it or
    shared by anyone. ``topic_ids`` includes sub-topics unless ``include_subtopics=False``."""
    qs = Question.objects.filter(status=QuestionStatus.APPROVED, is_current=True).filter(
        questions_visible_q([organisation.pk]))
    if topic_ids is not None:
        ids = topic_descendant_ids(topic_ids) if include_subtopics else set(topic_ids)
        qs = qs.filter(topic_id__in=ids)
    if difficulty:
        qs = qs.filter(difficulty__in=[difficulty] if isinstance(difficulty, str) else list(difficulty))
    return qs


# --- Review queue -----------------------------------------------------------------------------------------
def review_queue_ids(*, user: Any) -> list[int]:
    """Questions waiting for ``user``'s review, oldest first: current versions in review in the organisations
    where they are a reviewer, not written by themselves (they may not approve those)."""
    qs = Question.objects.filter(status=QuestionStatus.IN_REVIEW, is_current=True)
    if not getattr(user, "is_superuser", False):
        qs = qs.filter(organisation_id__in=organisation_ids_for(user, [Role.REVIEWER]))
    return list(qs.exclude(author_id=user.pk).order_by("id").values_list("id", flat=True)[:5000])


def review_neighbours(*, user: Any, question_id: int) -> tuple[int | None, int | None, int, int]:
    """(previous id, next id, position 1-based or 0 when not in the queue, queue length) around a question
    in ``user``'s review queue — the next one is the question after this one, or the first if this one left
    the queue (it was just approved or returned)."""
    queue = review_queue_ids(user=user)
    if question_id in queue:
        i = queue.index(question_id)
        return (queue[i - 1] if i else None, queue[i + 1] if i + 1 < len(queue) else None, i + 1, len(queue))
    later = [q for q in queue if q > question_id]
    earlier = [q for q in queue if q < question_id]
    return (earlier[-1] if earlier else None, later[0] if later else (queue[0] if queue else None), 0, len(queue))


# --- Search -----------------------------------------------------------------------------------------------
def questions_search(queryset: QuerySet[Question], query: str) -> QuerySet[Question]:
    """Questions whose stem, options or citation contain every word of ``query``, whatever the case and the
    diacritics ("luat dat dai", "LUẬT ĐẤT ĐAI" and "Luật Đất đai" find the same; "Điều 172" finds the
    citation). A query that is a question number ("62" or "#62") also finds that question. The words match
    ``Question.search_text`` as substrings (a trigram index serves them on PostgreSQL; SQLite scans)."""
    terms = dedupe.search_terms(query)
    if not terms:
        return queryset
    words = Q()
    for term in terms[:12]:
        words &= Q(search_text__contains=term)
    number = query.strip().lstrip("#")
    if number.isdecimal() and len(number) <= 18:
        words |= Q(pk=int(number))
    return queryset.filter(words)


# --- Duplicates -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DuplicateMatch:
    question_id: int
    similarity: float
    exact: bool
    same_answer: bool = False  # same cited article and correct answer, worded differently (dedupe.answer_key)

    @property
    def message(self) -> str:
        if self.exact:
            return f"Câu hỏi trùng với câu hỏi #{self.question_id} đã có trong ngân hàng."
        if self.same_answer and self.similarity < dedupe.NEAR_THRESHOLD:
            return (f"Câu hỏi có cùng căn cứ và cùng đáp án đúng với câu hỏi #{self.question_id} — có thể là "
                    f"cùng một câu hỏi viết khác đi.")
        return f"Câu hỏi gần trùng ({round(self.similarity * 100)}%) với câu hỏi #{self.question_id} đã có."


def _candidates(organisation_id: int, fps: Sequence[dedupe.Fingerprint],
                exclude_family_ids: Iterable[int] = (), answer_keys: Iterable[str] = ()) -> dict[int, tuple[str, str]]:
    """{question id: (normalised_text, search_key)} of current, visible questions sharing a band key or the
    exact search key with any of ``fps``. Batched: a few queries whatever the number of fingerprints."""
    keys = sorted({k for fp in fps for k in fp.band_keys})
    search_keys = sorted({fp.search_key for fp in fps})
    visible = Question.objects.filter(is_current=True).exclude(status=QuestionStatus.RETIRED).filter(
        questions_visible_q([organisation_id]))
    excluded = [f for f in exclude_family_ids if f is not None]
    if excluded:
        visible = visible.exclude(family_id__in=excluded)
    ids: set[int] = set()
    for start in range(0, len(keys), 5000):
        chunk = keys[start:start + 5000]
        ids.update(QuestionSimilarityKey.objects.filter(key__in=chunk).values_list("question_id", flat=True))
    found: dict[int, tuple[str, str]] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 5000):
        for row in visible.filter(pk__in=id_list[start:start + 5000]).values_list("id", "normalised_text",
                                                                                   "search_key"):
            found[row[0]] = (row[1], row[2])
    for start in range(0, len(search_keys), 5000):
        for row in visible.filter(search_key__in=search_keys[start:start + 5000]).values_list(
                "id", "normalised_text", "search_key"):
            found[row[0]] = (row[1], row[2])
    wanted = sorted({k for k in answer_keys if k})
    if wanted:
        for row in visible.filter(answer_key__in=wanted).values_list("id", "normalised_text", "search_key"):
            found[row[0]] = (row[1], row[2])
    return found


def _match(fp: dedupe.Fingerprint, candidates: dict[int, tuple[str, str]],
           by_key: dict[int, list[int]], shingle_cache: dict[int, frozenset[str]],
           same_answer: Iterable[int] = ()) -> list[DuplicateMatch]:
    matches: dict[int, DuplicateMatch] = {}
    for qid, (_norm, skey) in candidates.items():
        if skey == fp.search_key:
            matches[qid] = DuplicateMatch(qid, 1.0, True)
    for qid in same_answer:
        if qid in candidates and qid not in matches:
            if qid not in shingle_cache:
                shingle_cache[qid] = dedupe.shingles_of_normalised(candidates[qid][0])
            matches[qid] = DuplicateMatch(qid, dedupe.jaccard(fp.shingles, shingle_cache[qid]), False, True)
    seen: set[int] = set()
    for key in fp.band_keys:
        for qid in by_key.get(key, ()):
            if qid in seen or qid in matches or qid not in candidates:
                continue
            seen.add(qid)
            if qid not in shingle_cache:
                shingle_cache[qid] = dedupe.shingles_of_normalised(candidates[qid][0])
            sim = dedupe.jaccard(fp.shingles, shingle_cache[qid])
            if sim >= dedupe.NEAR_THRESHOLD:
                matches[qid] = DuplicateMatch(qid, sim, False)
    return sorted(matches.values(), key=lambda m: (-m.similarity, m.question_id))


def _keys_index(question_ids: Iterable[int]) -> dict[int, list[int]]:
    by_key: dict[int, list[int]] = {}
    ids = sorted(question_ids)
    for start in range(0, len(ids), 5000):
        for qid, key in QuestionSimilarityKey.objects.filter(question_id__in=ids[start:start + 5000]).values_list(
                "question_id", "key"):
            by_key.setdefault(key, []).append(qid)
    return by_key


def question_duplicates(*, organisation: Organisation, stem: str, option_texts: Iterable[str] = (),
                        exclude_family_id: int | None = None, answer_key: str = "") -> list[DuplicateMatch]:
    """Existing current questions visible to ``organisation`` that are exact or near duplicates
    (Jaccard ≥ dedupe.NEAR_THRESHOLD) of this text, or that share its ``answer_key`` (same cited article and
    correct answer: a reworded twin). Private questions of other organisations are never reported (that
    would leak them)."""
    fp = dedupe.fingerprint(stem, option_texts)
    excluded = [exclude_family_id] if exclude_family_id else []
    candidates = _candidates(organisation.pk, [fp], excluded, [answer_key])
    twins: list[int] = []
    if answer_key:
        twins = [qid for qid, key in Question.objects.filter(pk__in=list(candidates), answer_key=answer_key)
                 .values_list("id", "answer_key")]
    return _match(fp, candidates, _keys_index(candidates), {}, twins)


def question_duplicates_of(question: Question) -> list[DuplicateMatch]:
    return question_duplicates(organisation=question.organisation, stem=question.stem,
                               option_texts=list(question.options.values_list("text", flat=True)),
                               exclude_family_id=question.family_id or question.pk,
                               answer_key=question.answer_key)


def import_duplicates(*, organisation: Organisation, items: Sequence[tuple[Any, dedupe.Fingerprint]],
                      answer_keys: Sequence[str] | None = None) -> list[tuple[Any, str]]:
    """Warnings for an import: each item against the bank and against earlier items of the same file.
    ``items`` are (parsed question, fingerprint) pairs; ``answer_keys`` (aligned with them, optional) their
    ``dedupe.answer_key`` — same cited article and correct answer, a reworded twin. Returns (parsed question,
    Vietnamese message)."""
    fps = [fp for _item, fp in items]
    keys = list(answer_keys) if answer_keys is not None else [""] * len(items)
    candidates = _candidates(organisation.pk, fps, answer_keys=keys)
    by_key = _keys_index(candidates)
    by_answer: dict[str, list[int]] = {}
    wanted = sorted({k for k in keys if k})
    if wanted and candidates:
        for qid, key in Question.objects.filter(pk__in=list(candidates), answer_key__in=wanted).values_list(
                "id", "answer_key"):
            by_answer.setdefault(key, []).append(qid)
    shingle_cache: dict[int, frozenset[str]] = {}
    out: list[tuple[Any, str]] = []
    file_keys: dict[int, list[int]] = {}
    file_exact: dict[str, int] = {}
    file_answers: dict[str, int] = {}
    for index, (item, fp) in enumerate(items):
        answer = keys[index]
        twins = by_answer.get(answer, []) if answer else []
        for match in _match(fp, candidates, by_key, shingle_cache, twins)[:3]:
            out.append((item, match.message))
        if answer and answer in file_answers and fp.search_key not in file_exact:
            other_item = items[file_answers[answer]][0]
            pos = getattr(other_item, "row", None) or getattr(other_item, "line", None)
            label = f"dòng {pos}" if pos is not None else f"câu thứ {file_answers[answer] + 1}"
            out.append((item, f"Câu hỏi có cùng căn cứ và cùng đáp án đúng với câu ở {label} trong cùng tệp."))
        if answer:
            file_answers.setdefault(answer, index)
        # Within the file.
        where = None
        if fp.search_key in file_exact:
            where, sim = file_exact[fp.search_key], 1.0
        else:
            best = 0.0
            for other in {i for k in fp.band_keys for i in file_keys.get(k, ())}:
                s = dedupe.jaccard(fp.shingles, fps[other].shingles)
                if s >= dedupe.NEAR_THRESHOLD and s > best:
                    where, best = other, s
            sim = best
        if where is not None:
            other_item = items[where][0]
            pos = getattr(other_item, "row", None) or getattr(other_item, "line", None)
            label = f"dòng {pos}" if pos is not None else f"câu thứ {where + 1}"
            kind = "trùng" if sim == 1.0 else f"gần trùng ({round(sim * 100)}%)"
            out.append((item, f"Câu hỏi {kind} với câu ở {label} trong cùng tệp."))
        file_exact.setdefault(fp.search_key, index)
        for k in fp.band_keys:
            file_keys.setdefault(k, []).append(index)
    return out
