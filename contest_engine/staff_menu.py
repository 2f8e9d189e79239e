"""The staff menu: everything a signed-in organiser, judge, writer or reviewer can use in their organisations,
so nobody types URLs. One list, shown on the site's pages (``templates/base.html``) and in the admin
(``templates/admin/base_site.html``) by the ``staff_menu`` context processor.

Each entry names the roles that may use its destination; a user sees the entries of the roles they hold in
any organisation (superusers see all). The destinations check access themselves (``accounts.tenancy``): the
menu only saves typing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.tenancy import is_staff_member, organisation_ids_for

ORGANISER, JUDGE, WRITER, REVIEWER = Role.ORGANISER, Role.JUDGE, Role.WRITER, Role.REVIEWER
ALL = frozenset(Role.values)


@dataclass(frozen=True)
class MenuEntry:
    slug: str
    label: Any
    url_name: str
    roles: frozenset[str]
    args: tuple = ()

    @property
    def url(self) -> str:
        return reverse(self.url_name, args=self.args)


ENTRIES: tuple[MenuEntry, ...] = (
    MenuEntry("contests", _("Cuộc thi"), "admin:contests_contest_changelist", frozenset({ORGANISER, JUDGE})),
    MenuEntry("rounds", _("Đợt thi"), "admin:contests_round_changelist", frozenset({ORGANISER, JUDGE})),
    MenuEntry("questions", _("Ngân hàng câu hỏi"), "admin:questionbank_question_changelist", ALL),
    MenuEntry("imports", _("Nhập câu hỏi"), "admin:questionbank_question_import", frozenset({WRITER})),
    MenuEntry("leaderboards", _("Bảng xếp hạng"), "staff_rounds", frozenset({ORGANISER, JUDGE}), ("leaderboards",)),
    MenuEntry("units", _("Tham gia theo đơn vị"), "staff_rounds", frozenset({ORGANISER, JUDGE}), ("units",)),
    # The judges' home page (judging): their rounds, essays waiting, the approval of each round's results.
    MenuEntry("judging", _("Chấm thi và phê duyệt"), "judging:home", frozenset({ORGANISER, JUDGE})),
    MenuEntry("exports", _("Xuất kết quả"), "staff_rounds", frozenset({ORGANISER, JUDGE}), ("exports",)),
    # Short links, QR codes, posters and link previews of the organiser's contests (sharing).
    MenuEntry("sharing", _("Chia sẻ cuộc thi"), "sharing:list", frozenset({ORGANISER})),
    MenuEntry("staff_accounts", _("Tài khoản cán bộ"), "accounts:staff", frozenset({ORGANISER})),
    # The read API's tokens for other portals (api/, docs/api.md).
    MenuEntry("api_tokens", _("Mã truy cập API"), "admin:api_apitoken_changelist", frozenset({ORGANISER})),
    MenuEntry("admin", _("Quản trị"), "admin:index", ALL),
    MenuEntry("guide", _("Hướng dẫn"), "staff_guide", ALL),
)


def menu_for(user: Any) -> list[MenuEntry]:
    """The entries ``user`` may use, in menu order; empty for citizens and anonymous visitors."""
    if not getattr(user, "is_authenticated", False) or not is_staff_member(user):
        return []
    if user.is_superuser:
        return list(ENTRIES)
    held = {role for role in Role.values if organisation_ids_for(user, [role])}
    return [entry for entry in ENTRIES if entry.roles & held]


def staff_menu(request: Any) -> dict[str, Any]:
    """Context processor: ``staff_menu`` (a list of entries) for the base templates. Lazy: computed only
    when a template asks for it."""
    from django.utils.functional import SimpleLazyObject

    return {"staff_menu": SimpleLazyObject(lambda: menu_for(getattr(request, "user", None)))}
