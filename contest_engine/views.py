from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.models import Role
from accounts.tenancy import organisation_ids_for
from contest_engine.outages import database_outage, is_database_unavailable
from contests.selectors import contest_list_public

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    # Judges and organisers land on the public home too; it points them to their own pages first.
    staff_home = bool(organisation_ids_for(request.user, [Role.JUDGE, Role.ORGANISER])) or getattr(
        request.user, "is_superuser", False)
    return render(request, "home.html", {"contests": contest_list_public()[:6], "staff_home": staff_home})


def database_state() -> str:
    """``up`` when the database answers ``SELECT 1``, else ``down`` — never an exception. A failure counts in
    ``database_outage`` (logged once per outage, not per probe)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        if is_database_unavailable(exc):
            database_outage.failed(exc, source="health")
        else:
            logger.warning("health check: the database refused SELECT 1: %s", exc)
        try:
            connection.close()  # the next request starts with a fresh connection
        except Exception:
            logger.debug("closing the failed connection failed", exc_info=True)
        return "down"
    database_outage.succeeded()
    return "up"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process is up and serving — 200 whatever the database does (restarting every server
    process because PostgreSQL is away would only add a reconnect storm to the outage). The body says what
    it saw: ``{"status": "ok", "database": "up" | "down"}``. Supervisors and container runtimes probe this."""
    return JsonResponse({"status": "ok", "database": database_state()})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: this process can serve contestants now — 200 ``{"status": "ready", "database": "up"}``, or
    503 ``{"status": "unavailable", "database": "down"}`` while PostgreSQL does not answer. The reverse proxy
    and load balancers probe this to route around a process that cannot work. Later checks (Redis, the task
    queue) add their own keys."""
    state = database_state()
    ready = state == "up"
    return JsonResponse({"status": "ready" if ready else "unavailable", "database": state},
                        status=200 if ready else 503)
