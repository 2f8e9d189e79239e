from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "contests"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Cuộc thi"

    def ready(self) -> None:
        try:
            # In ready(), not at the top: services load models, which wait for the app registry.
            from questionbank.services._common import register_use_lister, register_used_checker
        except ImportError:  # pragma: no cover
            pass
        else:
            register_used_checker(question_drawn_by_an_attempt)
            register_use_lister(rounds_naming_question)
        try:
            # In ready(), as above.
            from accounts.services import (
                register_anonymiser,
                register_personal_data_exporter,
                register_profile_freezer,
            )
        except ImportError:  # pragma: no cover - accounts services not present
            return
        # In ready(), as above.
        from contests.services.registrations import (
            frozen_profile_fields,
            personal_data_anonymise,
            personal_data_export,
        )

        # After a first attempt the identifying profile fields are frozen (corrections via an organiser).
        register_profile_freezer(frozen_profile_fields)
        register_personal_data_exporter(personal_data_export)
        register_anonymiser(personal_data_anonymise)


def question_drawn_by_an_attempt(question: object) -> bool:
    """Question-bank hook: a version drawn by any attempt must never change (edits create a new version)."""
    # Not at the top: apps.py is imported before the models may be.
    from contests.models import AttemptQuestion

    return AttemptQuestion.objects.filter(question_id=question.pk).exists()  # type: ignore[attr-defined]


def rounds_naming_question(question: object) -> list:
    """Question-bank hook: rounds not yet over whose blueprint names this question (any version of it) as a
    fixed question (``contests.selectors.rounds_with_fixed_question``)."""
    # Not at the top: apps.py is imported before the models may be.
    from contests.selectors import rounds_with_fixed_question
    from questionbank.services._common import QuestionUse

    return [QuestionUse(organisation_id=round.contest.organisation_id, label=str(round))
            for round in rounds_with_fixed_question(question=question)]
