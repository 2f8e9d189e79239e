from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.tenancy import organisation_ids_for
from contests.selectors import contest_list_public


def home(request: HttpRequest) -> HttpResponse:
    # Judges and organisers land on the public home too; it points them to their own pages first.
    staff_home = bool(organisation_ids_for(request.user, [Role.JUDGE, Role.ORGANISER])) or getattr(
        request.user, "is_superuser", False)
    return render(request, "home.html", {"contests": contest_list_public()[:6], "staff_home": staff_home})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
