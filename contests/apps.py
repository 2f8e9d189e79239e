from django.apps import AppConfig


class ContestsConfig(AppConfig):
    name = "contests"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Cuộc thi"

    def ready(self) -> None:
        try:
            from questionbank.services import register_used_checker
        except ImportError:  # pragma: no cover
            pass
        else:
            register_used_checker(question_drawn_by_an_attempt)
        try:
            from accounts.services import register_profile_freezer
        except ImportError:  # pragma: no cover - accounts services not present
            return
        from contests.services.registrations import frozen_profile_fields

        # After a first attempt the identifying profile fields are frozen (corrections via an organiser).
        register_profile_freezer(frozen_profile_fields)


def question_drawn_by_an_attempt(question: object) -> bool:
    """Question-bank hook: a version drawn by any attempt must never change (edits create a new version)."""
    from contests.models import AttemptQuestion

    return AttemptQuestion.objects.filter(question_id=question.pk).exists()  # type: ignore[attr-defined]
