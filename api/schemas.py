"""The wire format of the read API (pydantic models through django-ninja): what the OpenAPI schema documents
and every response is validated against. Field names are English and stable; texts are the organisers' own."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

RoundStatus = Literal["upcoming", "open", "closed"]


class Error(Schema):
    detail: str


class ValidationErrorOut(Schema):
    detail: list[dict]


class OrganisationOut(Schema):
    slug: str
    name: str


class UnitOut(Schema):
    id: int
    name: str


class RoundOut(Schema):
    id: int
    name: str
    position: int
    opens_at: dt.datetime
    closes_at: dt.datetime = Field(description="The effective close (an extension included).")
    status: RoundStatus
    time_limit_seconds: int
    question_count: int
    max_attempts: int | None = Field(description="Attempts per person; null: unlimited.")
    prediction_enabled: bool
    prediction_target_kind: str
    prediction_target_value: int | None = Field(
        description="The real value contestants predicted: null until the round's official close.")
    results_published: bool


class ContestOut(Schema):
    slug: str
    title: str
    summary: str
    visibility: Literal["draft", "published"]
    organisation: OrganisationOut
    round_count: int
    first_opens_at: dt.datetime | None
    last_closes_at: dt.datetime | None
    web_url: str = Field(description="The contest's public page (path on this site).")
    updated_at: dt.datetime


class ContestDetailOut(ContestOut):
    rules_html: str = Field(description="The rules (thể lệ), sanitised HTML.")
    minimum_age: int | None
    rounds: list[RoundOut]


class ContestPage(Schema):
    count: int
    next: str | None
    previous: str | None
    items: list[ContestOut]


class RankingOut(Schema):
    version: int
    status: str = Field(description="Public endpoints: always 'published'.")
    computed_at: dt.datetime
    published_at: dt.datetime | None
    entry_count: int
    prediction_target_value: int | None


class ResultRow(Schema):
    position: int
    rank: int
    name: str = Field(description="Family name and initials (Nguyễn V. A.).")
    unit: UnitOut | None
    score: float
    correct_count: int | None
    prediction: int | None
    duration_ms: int
    is_winner: bool
    prize: str = Field(description="first | second | third | encouragement | other codes; '' for none.")
    full_name: str | None = Field(description="Only with the personal_data:read scope.")
    date_of_birth: dt.date | None = Field(description="Only with the personal_data:read scope.")
    phone: str | None = Field(description="Only with the personal_data:read scope.")
    national_id: str | None = Field(description="Only with the personal_data:read scope.")


class ResultsPage(Schema):
    round_id: int
    contest_slug: str
    ranking: RankingOut
    count: int
    next: str | None
    items: list[ResultRow]


class UnitFigures(Schema):
    unit: UnitOut
    registered: int
    entrants: int = Field(description="People with a finished attempt.")
    attempts: int = Field(description="Finished attempts.")
    population: int | None
    participation_rate_percent: float | None
    winners: int = Field(description="Public endpoints: winners of published results only.")
    in_progress: int | None = Field(description="People in an exam now (organisation endpoints only).")


class ParticipationPage(Schema):
    contest_slug: str
    round_id: int | None
    count: int
    next: str | None
    previous: str | None
    items: list[UnitFigures]


class FlagOut(Schema):
    id: int
    kind: str
    severity: Literal["info", "warn", "high"]
    score: float
    attempt_id: int
    unit: UnitOut | None
    name: str = Field(description="The contestant, masked (family name and initials).")
    full_name: str | None = Field(description="Only with the personal_data:read scope.")
    review_status: str = Field(description="unreviewed | cleared | disqualified | identity_check")
    evidence: dict | None = Field(
        description="The numbers behind the flag (networks among them): only with the personal_data:read scope.")
    created_at: dt.datetime
    updated_at: dt.datetime


class FlagPage(Schema):
    round_id: int
    count: int
    next: str | None
    previous: str | None
    items: list[FlagOut]
