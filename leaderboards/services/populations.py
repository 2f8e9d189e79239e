"""The contest's population per unit (the denominator of each unit's participation rate): typed per unit, or
pasted from a spreadsheet as two columns (unit, number). All or nothing, audited."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organisation, Role
from accounts.tenancy import has_role
from contest_engine.text import vietnamese_sort_key
from contests.models import Contest
from contests.services._common import audit
from leaderboards import errors
from leaderboards.models import UnitPopulation
from questionbank.dedupe import search_text

MAX_POPULATION = 50_000_000


def contest_units(*, contest: Contest) -> list[Organisation]:
    """The units a contest counts participation for: its allowed units, or every active unit."""
    units = Organisation.objects.filter(is_unit=True, is_active=True)
    if contest.allowed_units.exists():
        units = units.filter(pk__in=contest.allowed_units.values("pk"))
    return sorted(units, key=lambda u: vietnamese_sort_key(u.name))


def _normal(name: str) -> str:
    return search_text(name)


def populations_parse(*, contest: Contest, text: str) -> dict[int, int]:
    """{unit id: population} from pasted lines "Phường Ninh Kiều<TAB>45 120" (or separated by ";" or the last
    ","): the unit by name (accents and case ignored) or official code; numbers may carry "." or spaces as
    thousands separators. Raises ``PopulationInvalid`` listing every bad line."""
    units = contest_units(contest=contest)
    by_name = {_normal(u.name): u.pk for u in units}
    by_code = {u.official_code: u.pk for u in units if u.official_code}
    found: dict[int, int] = {}
    problems: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = re.split(r"\t|;", line)
        if len(parts) < 2:
            parts = line.rsplit(",", 1) if "," in line else line.rsplit(" ", 1)
        name, number = parts[0].strip(), parts[-1].strip()
        unit_id = by_code.get(name) or by_name.get(_normal(name))
        digits = re.sub(r"[.\s\u00a0]", "", number)
        if unit_id is None:
            if lineno == 1 and not digits.isdecimal():
                continue  # a header row ("Đơn vị | Số người")
            problems.append(_("Dòng %(n)s: không có đơn vị «%(name)s» trong phạm vi cuộc thi.")
                            % {"n": lineno, "name": name[:80]})
            continue
        if not digits.isdecimal() or int(digits) > MAX_POPULATION:
            problems.append(_("Dòng %(n)s: số người «%(v)s» không phải số nguyên hợp lệ.")
                            % {"n": lineno, "v": number[:30]})
            continue
        if unit_id in found:
            problems.append(_("Dòng %(n)s: đơn vị «%(name)s» đã có ở dòng trước.") % {"n": lineno, "name": name[:80]})
            continue
        found[unit_id] = int(digits)
    if problems:
        raise errors.PopulationInvalid(problems)
    return found


def unit_populations_set(*, contest: Contest, actor: Any, values: dict[int, int | None]) -> int:
    """Set (or clear, with None) the contest's population of each unit in ``values``. Organiser of the
    contest's organisation; units outside the contest's scope or numbers out of range raise
    ``PopulationInvalid`` and nothing changes. Returns how many units changed; audited."""
    if not has_role(actor, contest.organisation_id, [Role.ORGANISER]):
        raise errors.PermissionDenied()
    allowed = {u.pk: u.name for u in contest_units(contest=contest)}
    problems = [_("Đơn vị #%(id)s không thuộc phạm vi cuộc thi.") % {"id": uid} for uid in values if uid not in allowed]
    problems += [_("Số người của %(name)s không hợp lệ.") % {"name": allowed[uid]} for uid, v in values.items()
                 if uid in allowed and v is not None and not 0 <= v <= MAX_POPULATION]
    if problems:
        raise errors.PopulationInvalid(problems)
    changed = 0
    with transaction.atomic():
        current = dict(UnitPopulation.objects.select_for_update().filter(contest=contest)
                       .values_list("unit_id", "population"))
        for unit_id, value in values.items():
            if current.get(unit_id) == value:
                continue
            if value is None:
                UnitPopulation.objects.filter(contest=contest, unit_id=unit_id).delete()
            else:
                UnitPopulation.objects.update_or_create(contest=contest, unit_id=unit_id,
                                                        defaults={"population": value})
            changed += 1
        if changed:
            audit(actor=actor, action="leaderboards.unit_populations_set", target=contest,
                  organisation=contest.organisation_id, data={"units": changed})
    return changed
