"""The checks' thresholds and their documented defaults (docs/anti-cheat.md explains each one).

A round overrides any of them in ``RoundCheckSettings.overrides``; ``anticheat.selectors.settings_for``
gives the effective values, which every flag stores as the settings it was raised under.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULTS: dict[str, float | int] = {
    # Reading time of a question: base + characters (stem + options, tags stripped) / speed. 40 characters/s
    # is a fast skim of Vietnamese text (careful reading is ~15–20/s).
    "reading_base_seconds": 1.5,
    "reading_chars_per_second": 40.0,
    # An answer is "too fast" below this share of its reading time.
    "fast_answer_fraction": 0.35,
    # fast_answers: share of too-fast answers among at least fast_answers_min_count answered questions.
    "fast_answers_min_count": 5,
    "fast_answers_warn_share": 0.4,
    "fast_answers_high_share": 0.7,
    # fast_attempt: the whole attempt (start → submit, server time) against the sum of reading times.
    "fast_attempt_warn_fraction": 0.45,
    "fast_attempt_high_fraction": 0.25,
    # regular_intervals: coefficient of variation of the gaps between answers (≥ regular_min_intervals gaps).
    "regular_min_intervals": 8,
    "regular_cv_warn": 0.15,
    "regular_cv_high": 0.08,
    # network_burst: attempts first connected from one network (/24, /64) or one device within the window
    # (a network also needs ≥ 5× its usual share of the attempts started around then, plus 5).
    "burst_window_minutes": 10,
    "burst_network_warn": 25,
    "burst_device_warn": 3,
    "burst_device_high": 5,
    # focus_loss (hidden + blur + fullscreen left), copy_paste, reloads: counts per attempt.
    "focus_loss_warn": 8,
    "focus_loss_high": 20,
    "copy_paste_warn": 3,
    "copy_paste_high": 10,
    "reloads_warn": 5,
    # answer_copying: family-wise false-positive bound per round, minimum identical wrong answers, how
    # close two attempts' times must be for "high", candidate blocks and the answer hash.
    "copying_alpha": 0.01,
    "copying_min_matches": 4,
    "copying_close_minutes": 30,
    "copying_block_max": 200,
    "copying_lsh_bands": 40,
    "copying_lsh_rows": 4,
    # prediction_farming: accounts of one network/device whose predictions form a run (gaps ≤ max_gap), more
    # than the round's spread of predictions explains (binomial tail ≤ farming_alpha / groups examined).
    "farming_alpha": 0.001,
    "farming_min_accounts": 8,
    "farming_max_gap": 2,
    "farming_high_accounts": 12,
    # signup_burst: accounts created from one network within the window.
    "signup_window_minutes": 10,
    "signup_warn": 10,
    "signup_high_same_device": 5,
}


def settings_validate(overrides: Any) -> dict[str, float | int]:
    """Overrides must name known thresholds with non-negative numbers. Raises ValidationError."""
    if not isinstance(overrides, dict):
        raise ValidationError(_("Ngưỡng riêng phải là một đối tượng JSON."))
    clean: dict[str, float | int] = {}
    for key, value in overrides.items():
        if key not in DEFAULTS:
            raise ValidationError(_("Ngưỡng không tồn tại: %(key)s"), params={"key": key})
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValidationError(_("Ngưỡng %(key)s phải là một số không âm."), params={"key": key})
        clean[key] = type(DEFAULTS[key])(value)
    return clean


def effective(overrides: Any) -> dict[str, float | int]:
    try:
        mine = settings_validate(overrides or {})
    except ValidationError:
        mine = {}
    return {**DEFAULTS, **mine}

