"""The OpenAPI schema: the committed copy (docs/api/openapi.json) is what the code generates, and schemathesis,
run against that committed copy, finds no server error and no response outside the schema. Bounded: a few
examples per operation (the whole module takes seconds), anonymous for the public operations and with a token
holding every scope for the organisation's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.management.commands.api_openapi import openapi_text
from api.models import Scope

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "api" / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

schema = schemathesis.openapi.from_path(COMMITTED)
app = get_wsgi_application()

pytestmark = pytest.mark.django_db


def test_committed_schema_is_what_the_code_generates():
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == json.loads(openapi_text()), (
        "docs/api/openapi.json is stale: run `manage.py api_openapi docs/api/openapi.json` and commit it")


def test_served_schema_is_the_committed_one(client):
    served = client.get("/api/v1/openapi.json").json()
    assert json.loads(json.dumps(served)) == json.loads(COMMITTED.read_text(encoding="utf-8"))


@pytest.fixture
def full_token(api_world, make_token):
    return make_token(api_world.contest.organisation, *Scope.values)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django's WSGI handler closes the database connection at each request's start and end (the test client
    turns that off the same way): the requests run inside the test's transaction, on its connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@override_settings(API_RATE_LIMIT_ANONYMOUS=(100_000, 60), API_RATE_LIMIT_TOKEN=(100_000, 60))
def test_api_conforms_to_the_committed_schema(case, full_token):
    headers = {"Authorization": f"Bearer {full_token}"} if case.path.startswith("/api/v1/org/") else {}
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)


@override_settings(API_RATE_LIMIT_ANONYMOUS=(100_000, 60), API_RATE_LIMIT_TOKEN=(100_000, 60))
def test_real_objects_answer_200_conforming_to_the_schema(api_world, full_token):
    """Random slugs and ids mostly find nothing (404): here every operation is called once with the world's real
    contest and round, so the 200 answers' bodies are checked against the schema too."""
    slug, round_id = api_world.contest.slug, api_world.round.pk
    params = {"slug": slug, "round_id": round_id}
    for path, methods in schema.raw_schema["paths"].items():
        operation = schema[path]["GET"]
        names = [p["name"] for p in methods["get"].get("parameters", []) if p["in"] == "path"]
        case = operation.Case(path_parameters={name: params[name] for name in names})
        headers = {"Authorization": f"Bearer {full_token}"} if path.startswith("/api/v1/org/") else {}
        response = case.call_and_validate(app=app, headers=headers, checks=CHECKS)
        assert response.status_code == 200, (path, response.text[:500])
