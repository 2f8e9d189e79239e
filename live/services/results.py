"""Saving a finished game as a contest result (placeholder, filled in below)."""


def session_results_save(*, session_id: int) -> None:
    return None
