"""Background tasks of leaderboards (django-tasks, default queue). Thin: the work is in the services."""

from __future__ import annotations

from django_tasks import task

from leaderboards.services.rescore import attempts_rescore_for_question
from questionbank.models import Question


@task()
def rescore_question_task(question_id: int, actor_id: int | None = None) -> dict[str, int]:
    """Rescore every attempt that drew a corrected question (may be hundreds of thousands: not in the
    reviewer's request). Idempotent: the scores are recomputed from the stored answers."""
    from django.contrib.auth import get_user_model

    question = Question.objects.get(pk=question_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return attempts_rescore_for_question(question=question, actor=actor)
