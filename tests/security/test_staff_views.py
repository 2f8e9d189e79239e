"""Non-negotiable 3 (tenant isolation), views side — systemic.

Every URL pattern of the project (``django.urls.get_resolver``), the admin aside, is classified here as
PUBLIC, CITIZEN or STAFF. A new URL fails ``test_every_url_is_classified`` until it is, so no future view
skips these checks. For every STAFF view the test builds the URL for an object of organisation B and checks:

- anonymous → redirected to the login page; a citizen → 403 (or 404: nothing of the staff side either way);
- staff of organisation A holding every role there → 404 (a foreign object is indistinguishable from a
  missing one), and no row anywhere changed;
- positive control: B's own staff are not refused (so a wrong URL cannot pass as "isolated").

Citizen URLs are covered by test_bad_input.py, the admin by test_admin_registry.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import CitizenProfileFactory

pytestmark = pytest.mark.django_db

PUBLIC = {
    "home", "healthz", "readyz", "favicon", "set_language", "javascript-catalog",
    "accounts:login", "accounts:logout", "accounts:signup", "accounts:privacy_notice", "accounts:password_reset",
    "accounts:password_reset_done", "accounts:sms_reset_request", "accounts:sms_reset_verify",
    "accounts:password_reset_confirm", "accounts:password_reset_complete",
    "contests:list", "contests:detail",
    # Public boards: staff of the owning organisation see more (full names, live board while frozen);
    # test_public_boards_give_foreign_staff_nothing_more checks foreign staff get the public view only.
    "leaderboards:round", "leaderboards:official", "leaderboards:contest",
    "judging:published",
    # Live games: joining by PIN is public by design; the play page needs the signed player cookie (else it
    # sends you to the join page) and the socket checks it (tests/live).
    "live:join", "live:play",
    # Short links and preview cards: a published contest's only; a draft's are 404 (tests/sharing).
    "sharing:short", "sharing:card",
    # The read API (issue 15) takes no session at all: its public endpoints serve published data, its /org/ ones
    # need an organisation's bearer token with a scope; tests/api/test_read.py proves scopes and tenancy (B's
    # token never sees A's private data; a staff session gives nothing).
    "api-v1:api-root", "api-v1:openapi-json", "api-v1:contests_list", "api-v1:contest_detail",
    "api-v1:contest_participation", "api-v1:round_results", "api-v1:org_contests_list", "api-v1:org_contest_detail",
    "api-v1:org_contest_participation", "api-v1:org_round_results", "api-v1:org_round_flags", "api-v1:not_found",
}
CITIZEN = {
    "accounts:profile", "accounts:password_change", "accounts:my_data", "accounts:my_data_export",
    "accounts:account_delete",
    # The citizen's own pending phone/e-mail change (always request.user's: tests/accounts/test_contact_change.py).
    "accounts:contact_confirm", "accounts:contact_cancel",
    "contests:my_attempts", "contests:start", "contests:exam", "contests:result", "contests:register",
    # Practice sessions are the citizen's own (someone else's is a 404: tests/practice/test_views.py).
    "practice:home", "practice:start", "practice:mock_start", "practice:session", "practice:answer",
    "practice:finish",
    "surveys:list", "surveys:detail",
}


@dataclass(frozen=True)
class StaffView:
    method: str
    kwargs: Callable[[Any], dict[str, Any]] | None  # world → URL kwargs of one of its objects; None: no object
    data: Callable[[Any], dict[str, Any]] | None = None
    fixed: dict[str, Any] | None = None  # URL kwargs of an objectless view (no object of a world in them)


def _winner_position(world: Any) -> int:
    from leaderboards.models import RankingEntry

    ranking = world.objects["leaderboards.RoundRanking"]
    return RankingEntry.objects.filter(ranking=ranking, is_winner=True).order_by("position").first().position


STAFF: dict[str, StaffView] = {
    "questionbank:template": StaffView("get", None),
    "questionbank:preview": StaffView("get", lambda w: {"question_id": w.private_question.pk}),
    "leaderboards:dashboard": StaffView("get", None),
    "leaderboards:units": StaffView("get", lambda w: {"round_id": w.round.pk}),
    "leaderboards:contest_units": StaffView("get", lambda w: {"slug": w.contest.slug}),
    # A unit's own participation (B's own unit in B's contest) and the contest's populations per unit.
    "leaderboards:unit_participation": StaffView("get", lambda w: {"slug": w.contest.slug, "unit_id": w.org.pk}),
    "leaderboards:unit_populations": StaffView("post", lambda w: {"slug": w.contest.slug},
                                               lambda w: {"pasted": f"{w.org.name}\t1234"}),
    "exports:round": StaffView("get", lambda w: {"pk": w.round.pk}),
    "exports:round_statistics": StaffView("get", lambda w: {"pk": w.round.pk}),
    "exports:round_request": StaffView("post", lambda w: {"pk": w.round.pk}, lambda w: {"kind": "results_xlsx"}),
    "exports:contest": StaffView("get", lambda w: {"pk": w.contest.pk}),
    "exports:contest_request": StaffView("post", lambda w: {"pk": w.contest.pk}, lambda w: {"kind": "results_xlsx"}),
    "exports:job": StaffView("get", lambda w: {"job_id": w.objects["exports.ExportJob"].pk}),
    "exports:status": StaffView("get", lambda w: {"job_id": w.objects["exports.ExportJob"].pk}),
    "exports:download": StaffView("get", lambda w: {"job_id": w.objects["exports.ExportJob"].pk}),
    "judging:round": StaffView("get", lambda w: {"round_id": w.round.pk}),
    "judging:decide": StaffView("post", lambda w: {"ranking_id": w.objects["leaderboards.RoundRanking"].pk,
                                                   "action": "return"}, lambda w: {"note": "Xem lại"}),
    "judging:essays": StaffView("get", lambda w: {"round_id": w.round.pk}),
    "judging:essay": StaffView("post", lambda w: {"assignment_id": w.objects["judging.EssayAssignment"].pk},
                               lambda w: {"mark": "3", "comment": "Khá"}),
    "judging:essay_correct": StaffView("post", lambda w: {"assignment_id": w.objects["judging.EssayAssignment"].pk},
                                       lambda w: {"mark": "2", "reason": "Gõ nhầm"}),
    "judging:guides": StaffView("post", lambda w: {"round_id": w.round.pk},
                                lambda w: {"question": w.objects["judging.EssayGuide"].question_id,
                                           "model_answer": "Đáp án", "rubric": "Thang điểm"}),
    "practice:insights": StaffView("get", None),
    "surveys:results": StaffView("get", lambda w: {"survey_id": w.objects["surveys.Survey"].pk}),
    "surveys:export": StaffView("get", lambda w: {"survey_id": w.objects["surveys.Survey"].pk}),
    "judging:certificate": StaffView("get", lambda w: {"ranking_id": w.objects["leaderboards.RoundRanking"].pk,
                                                       "position": _winner_position(w)}),
    "judging:certificates": StaffView("get", lambda w: {"ranking_id": w.objects["leaderboards.RoundRanking"].pk}),
    "judging:certificate_settings": StaffView("post", lambda w: {"round_id": w.round.pk},
                                              lambda w: {"issuing_body": "Ban Tổ chức", "place": "Cần Thơ",
                                                         "signer_title": "Trưởng ban", "signer_name": "A",
                                                         "number_sign": "GCN"}),
    "judging:home": StaffView("get", None),
    "judging:recompute": StaffView("post", lambda w: {"round_id": w.round.pk}),
    "judging:prizes": StaffView("post", lambda w: {"ranking_id": w.objects["leaderboards.RoundRanking"].pk},
                                lambda w: {"first": "1", "second": "0", "third": "0", "encouragement": "0",
                                           "entrants": "0", "rate": "0", "winners": "0", "reason": "Thể lệ"}),
    "judging:prize_tie": StaffView("post", lambda w: {"ranking_id": w.objects["leaderboards.RoundRanking"].pk},
                                   lambda w: {"tie-rule": "extend", "tie-reason": "Thể lệ"}),
    "judging:complaints": StaffView("post", lambda w: {"round_id": w.round.pk},
                                    lambda w: {"contestant": w.results.registrations[0].user.phone,
                                               "content": "Xin phúc khảo"}),
    "judging:complaint": StaffView("post", lambda w: {"complaint_id": w.objects["judging.Complaint"].pk},
                                   lambda w: {"do": "decide", "outcome": "rejected", "decision": "Giữ nguyên"}),
    "accounts:staff": StaffView("get", None),
    "anticheat:queue": StaffView("get", lambda w: {"round_id": w.round.pk}),
    "anticheat:timeline": StaffView("get", lambda w: {"attempt_id": w.objects["anticheat.Flag"].attempt_id}),
    "anticheat:decide": StaffView("post", lambda w: {"attempt_id": w.objects["anticheat.Flag"].attempt_id},
                                  lambda w: {"action": "disqualify", "reason": "Gian lận"}),
    "anticheat:revert": StaffView("post", lambda w: {"attempt_id": w.objects["anticheat.Flag"].attempt_id},
                                  lambda w: {"reason": "Nhầm"}),
    "anticheat:analyse": StaffView("post", lambda w: {"round_id": w.round.pk}),
    # The staff menu's pages: lists of the user's own organisations' rounds, the guide.
    "staff_home": StaffView("get", None),
    **{f"staff_rounds/{purpose}": StaffView("get", None, fixed={"purpose": purpose})
       for purpose in ("leaderboards", "units", "exports")},
    "staff_guide": StaffView("get", None),
    "staff_guide_file": StaffView("get", None, fixed={"name": "README.md"}),

    "live:index": StaffView("get", None),
    "live:new": StaffView("get", None),
    "live:host": StaffView("get", lambda w: {"session_id": w.objects["live.LiveSession"].pk}),
    "live:screen": StaffView("get", lambda w: {"session_id": w.objects["live.LiveSession"].pk}),
    "live:qr": StaffView("get", lambda w: {"session_id": w.objects["live.LiveSession"].pk}),
    "live:results": StaffView("get", lambda w: {"session_id": w.objects["live.LiveSession"].pk}),
    "live:results_xlsx": StaffView("get", lambda w: {"session_id": w.objects["live.LiveSession"].pk}),

    # Sharing: the organisers' list, a contest's share panel, QR codes, preview card and poster.
    "sharing:list": StaffView("get", None),
    **{name: StaffView("get", lambda w: {"contest_id": w.contest.pk})
       for name in ("sharing:panel", "sharing:qr_svg", "sharing:qr_png", "sharing:staff_card", "sharing:poster")},
}
# Views that accept no object: any staff member may open them; they must show nothing of organisation B.
OBJECTLESS = {name for name, view in STAFF.items() if view.kwargs is None}


def walk(patterns: list, namespace: str | None = None, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(pattern.url_patterns, full, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
            yield name, prefix + str(pattern.pattern), pattern.callback


def project_urls() -> list[tuple[str, str, Any]]:
    return [(name, route, callback) for name, route, callback in walk(get_resolver().url_patterns)
            if not name.startswith("admin:")]


def test_every_url_is_classified():
    found = project_urls()
    unnamed = [route for name, route, _ in found if not name or name.endswith(":")]
    assert not unnamed, f"unnamed URL patterns cannot be classified: {unnamed}"
    names = {name for name, _, _ in found}
    unclassified = names - PUBLIC - CITIZEN - {name.split("/")[0] for name in STAFF}
    assert not unclassified, (
        f"new URL(s) {sorted(unclassified)}: classify them in tests/security/test_staff_views.py "
        "(STAFF with an object of organisation B, CITIZEN or PUBLIC)")
    assert not (PUBLIC & CITIZEN)
    assert not (PUBLIC & set(STAFF))
    assert not (CITIZEN & set(STAFF))


def test_no_view_is_csrf_exempt():
    """CSRF everywhere: no view of the project opts out (the admin is Django's own and protected)."""
    exempt = [name for name, _, callback in project_urls() if getattr(callback, "csrf_exempt", False)]
    assert exempt == []


def _row_counts() -> dict[str, int]:
    labels = ("accounts.AuditEvent", "exports.ExportJob", "judging.RankingDecision", "judging.EssayAssignment",
              "judging.EssayGrade", "judging.EssayGradeCorrection", "judging.EssayGuide", "judging.Complaint",
              "judging.CertificateSettings", "judging.Certificate", "leaderboards.RoundRanking",
              "leaderboards.Disqualification", "contests.Attempt", "contests.Registration", "accounts.User",
              "django_tasks_database.DBTaskResult")
    return {label: apps.get_model(label)._default_manager.count() for label in labels}


def _state(world: Any) -> dict[str, Any]:
    """Row counts plus the mutable fields of the objects staff views act on."""
    from judging.models import Complaint, EssayGuide
    from leaderboards.models import RoundRanking

    ranking = RoundRanking.objects.get(pk=world.objects["leaderboards.RoundRanking"].pk)
    complaint = Complaint.objects.get(pk=world.objects["judging.Complaint"].pk)
    guide = EssayGuide.objects.get(pk=world.objects["judging.EssayGuide"].pk)
    return {**_row_counts(), "ranking_status": ranking.status, "ranking_version": ranking.version,
            "ranking_prizes": ranking.prizes, "ranking_prize_tie": ranking.prize_tie_rule,
            "complaint": complaint.status, "guide": guide.rubric,
            "grades": sorted(world.objects["judging.EssayAssignment"].grades.values_list("mark", flat=True))}


def _call(client: Client, name: str, world: Any) -> Any:
    view = STAFF[name]
    url = reverse(name.split("/")[0], kwargs=view.kwargs(world) if view.kwargs else view.fixed)
    data = view.data(world) if view.data else {}
    return client.post(url, data) if view.method == "post" else client.get(url, data)


OBJECT_VIEWS = sorted(set(STAFF) - OBJECTLESS)


@pytest.mark.parametrize("name", sorted(STAFF))
def test_anonymous_is_sent_to_login(name, client, world_b):
    before = _state(world_b)
    response = _call(client, name, world_b)
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(reverse("accounts:login")), response["Location"]
    assert _state(world_b) == before


@pytest.mark.parametrize("name", sorted(STAFF))
def test_citizen_gets_nothing_of_the_staff_side(name, client, world_b):
    citizen = CitizenProfileFactory(unit=world_b.org).user  # even a citizen of B's own unit
    client.force_login(citizen)
    before = _state(world_b)
    response = _call(client, name, world_b)
    assert response.status_code in {403, 404}, response.status_code
    assert _state(world_b) == before


@pytest.mark.parametrize("name", OBJECT_VIEWS)
def test_foreign_staff_get_404_and_change_nothing(name, client, world_b, staff_a):
    client.force_login(staff_a)
    before = _state(world_b)
    response = _call(client, name, world_b)
    assert response.status_code == 404, response.status_code
    assert _state(world_b) == before
    client.logout()

    # Positive control: the same request by B's own staff is not refused (the URL really names the object).
    client.force_login(world_b.staff)
    response = _call(client, name, world_b)
    assert response.status_code not in {403, 404}, f"positive control: B's staff got {response.status_code}"


@pytest.mark.parametrize("name", sorted(OBJECTLESS))
def test_objectless_staff_pages_show_nothing_of_b(name, client, world_b, staff_a):
    client.force_login(staff_a)
    response = _call(client, name, world_b)
    assert response.status_code == 200
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode()
        assert world_b.contest.title not in body
        assert f"{world_b.round.name}<" not in body
        assert f"{world_b.round.name} " not in body


def test_public_boards_give_foreign_staff_nothing_more(client, world_b, staff_a):
    """The official ranking of an unpublished (draft) version is for B's staff only."""
    from leaderboards.models import RankingStatus, RoundRanking

    ranking = world_b.objects["leaderboards.RoundRanking"]
    RoundRanking.objects.filter(pk=ranking.pk).update(status=RankingStatus.DRAFT)
    url = reverse("leaderboards:official", kwargs={"round_id": world_b.round.pk})
    client.force_login(staff_a)
    assert client.get(url).status_code == 404
    client.force_login(world_b.staff)
    response = client.get(url)
    assert response.status_code == 200
    assert "Trần Thị 0" in response.content.decode()  # B's staff see full names of a draft


# --- Sockets: foreign staff get what the public gets, and nothing of a draft -----------------------------------


async def _socket_frames(path: str, user: Any) -> tuple[list[dict], int | None]:
    """Connect to ``path`` as ``user`` and collect frames until the server is quiet or closes."""
    import contextlib
    import json

    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from contest_engine.asgi import application
    from tests.realtime.conftest import session_cookie

    cookie = await sync_to_async(session_cookie)(user)
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
               (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    comm = WebsocketCommunicator(application, path, headers=headers)
    frames: list[dict] = []
    code = None
    connected, _ = await comm.connect(timeout=10)
    if connected:
        while not await comm.receive_nothing(0.5):
            message = await comm.receive_output(5)
            if message["type"] == "websocket.close":
                code = message.get("code")
                break
            frames.append(json.loads(message["text"]))
    with contextlib.suppress(Exception):
        await comm.disconnect()
    return frames, code if connected else -1


@pytest_asyncio.fixture
async def _socket_cleanup():
    """As tests/realtime/conftest.py's ``open_client``: the writer's and the pool's threads hold database
    connections that would block dropping the test database."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    from leaderboards.services.live import cancel_pending_pushes
    from realtime import db
    from realtime.batching import batchers_close

    cancel_pending_pushes()
    await batchers_close()
    db.shutdown()
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_socket_cleanup")
async def test_leaderboard_socket_gives_foreign_staff_only_the_public_view(world_b, staff_a):
    import json

    from asgiref.sync import sync_to_async

    path = f"/ws/leaderboards/{world_b.round.pk}/"
    full_name = world_b.results.registrations[0].full_name
    own, _ = await _socket_frames(path, world_b.staff)
    assert full_name in json.dumps(own, ensure_ascii=False), "positive control: B's staff see full names"
    foreign, _ = await _socket_frames(path, staff_a)
    assert foreign, "the public view of a published, closed round is not empty"
    assert full_name not in json.dumps(foreign, ensure_ascii=False)

    await sync_to_async(type(world_b.contest).objects.filter(pk=world_b.contest.pk).update)(visibility="draft")
    foreign, code = await _socket_frames(path, staff_a)
    assert code is not None, "a draft contest's board must be closed to foreign staff"
    assert not [f for f in foreign if f.get("type", "").startswith("leaderboard.") and f.get("rows")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_socket_cleanup")
async def test_exam_socket_of_b_is_closed_to_staff_of_a(world_b, staff_a):
    frames, code = await _socket_frames(f"/ws/attempts/{world_b.results.attempts[0].pk}/", staff_a)
    assert code is not None
    assert all(f.get("type") in {"error", "attempt.closed"} for f in frames), frames
