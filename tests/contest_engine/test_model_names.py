"""Admin names (issue 16): every model of the project's apps has a singular and a plural verbose name, each its
own lazily translated catalogue entry (``pgettext_lazy`` with the contexts "verbose_name" and
"verbose_name_plural": Vietnamese nouns do not inflect, so both read the same in Vietnamese while English gets
"ranking entry" / "ranking entries"), shown in Vietnamese by default and translated in the English catalogue."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

from tests.contest_engine.test_layering import LAYERS

MODELS = sorted((m for m in apps.get_models() if m._meta.app_label in LAYERS), key=lambda m: m._meta.label)
CONTEXTS = ("verbose_name", "verbose_name_plural")


def catalogue_key(name) -> tuple[str, ...]:
    """The (context, msgid) a lazy pgettext proxy was made with."""
    return tuple(name._args)


def test_every_app_of_the_layers_has_its_models_here():
    assert {m._meta.app_label for m in MODELS} >= {"accounts", "contests", "leaderboards", "judging", "live"}
    assert len(MODELS) > 50


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_singular_and_plural_are_distinct_lazy_msgids_with_translations(model):
    meta = model._meta
    singular, plural = meta.original_attrs.get("verbose_name"), meta.original_attrs.get("verbose_name_plural")
    assert isinstance(singular, Promise), "set, lazily translated"
    assert isinstance(plural, Promise), "set, lazily translated"
    keys = catalogue_key(singular), catalogue_key(plural)
    assert [key[0] for key in keys] == list(CONTEXTS), f"pgettext_lazy with the contexts {CONTEXTS}: {keys}"
    assert keys[0] != keys[1]
    with translation.override("vi"):
        vi = str(singular), str(plural)
    with translation.override("en"):
        en = str(singular), str(plural)
    assert vi == (keys[0][1], keys[1][1])  # Vietnamese first: the msgids are the Vietnamese names
    assert all(vi), vi
    assert en[0] != vi[0], f"no English translation of {vi[0]!r}"
    assert en[1] != vi[1], f"no English translation of the plural {vi[1]!r}"
    assert en[0] != en[1], f"the English plural of {en[0]!r} is its own word"
