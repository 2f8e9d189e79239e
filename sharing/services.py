"""Writes of the sharing app: a contest's short link, made once."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from contests.models import Contest
from sharing.models import ShareLink

# Lower-case letters and digits without the ones a poster's reader confuses (0/o, 1/l/i): codes are typed
# from paper as well as scanned. 8 characters of 31: about 8.5 × 10^11 codes (40 bits).
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def share_link_get_or_create(*, contest: Contest) -> ShareLink:
    """The contest's short link, made on first use (a draft's too, so that posters can be printed before the
    contest is published; its link answers 404 until then). Two concurrent first calls get the same row (the
    one-to-one constraint decides); a code already taken (1 in 10^11) is drawn again."""
    found = ShareLink.objects.filter(contest=contest).first()
    if found is not None:
        return found
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ShareLink.objects.create(contest=contest, code=_new_code())
        except IntegrityError:
            found = ShareLink.objects.filter(contest=contest).first()
            if found is not None:
                return found  # made meanwhile by another request
    raise RuntimeError("could not draw a free short-link code in 5 tries")
