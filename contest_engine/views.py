from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from contests.selectors import contest_list_public


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"contests": contest_list_public()[:6]})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the reverse proxy: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
