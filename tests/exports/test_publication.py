"""Which ranking a workbook holds: every export names the version and status of each round's ranking on the
information sheet; the publication export is the published version only — not a newer draft — without answer or
essay texts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from exports.selectors import export_target
from exports.workbook import results_workbook_write
from leaderboards.models import RoundRanking
from leaderboards.services.ranking import ranking_compute
from tests.exports.xlsx_read import read_book, sheet_rows, values
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def write(target):
    buffer = io.BytesIO()
    results_workbook_write(target=target, out=buffer, generated_by="thử", full_personal_data=False,
                           now=dt.datetime(2026, 3, 1, 17, 0, tzinfo=dt.UTC))
    return read_book(buffer.getvalue())


def info(book) -> dict:
    return {row[0]: row[1] for row in values(sheet_rows(book, "Thông tin")) if row and row[0] and len(row) > 1}


def publish(ranking, org):
    from judging.services.approval import ranking_approve, ranking_propose, ranking_publish

    organiser = make_staff(org, "organiser")
    ranking_propose(actor=make_staff(org, "judge"), ranking=ranking)
    ranking_approve(actor=organiser, ranking=ranking)
    return ranking_publish(actor=organiser, ranking=ranking, without_prizes=True)


def test_the_information_sheet_names_the_version_and_its_status(results, org_a):
    assert info(write(export_target(round_id=results.round.pk)))["Kết quả xếp hạng"].startswith(
        "Chưa có kết quả chính thức: xếp hạng tạm tính")
    ranking = ranking_compute(round=results.round)
    text = info(write(export_target(round_id=results.round.pk)))["Kết quả xếp hạng"]
    assert text == "Phiên bản 1 — Bản nháp — chưa được phê duyệt, không dùng để công bố"
    publish(ranking, org_a)
    text = info(write(export_target(round_id=results.round.pk)))["Kết quả xếp hạng"]
    assert text.startswith("Phiên bản 1 — Đã công bố, công bố ngày ")
    assert ", phê duyệt ngày " in text


def test_the_publication_export_is_the_published_version_not_a_newer_draft(results, org_a):
    from contests.models import Attempt
    from judging.services.approval import ranking_revise

    published = publish(ranking_compute(round=results.round), org_a)
    Attempt.objects.filter(pk=results.attempts[3].pk).update(score=Decimal("9"))  # person 3 would now lead
    draft = ranking_revise(actor=make_staff(org_a, "organiser"), ranking=published, reason="Phúc khảo")
    assert RoundRanking.objects.get(pk=draft.pk).status == "draft"

    public = write(export_target(round_id=results.round.pk, published=True))
    assert public.sheetnames == ["Thông tin", "Xếp hạng", "Đơn vị"]  # no answers, no essay texts
    header = [c.value for c in sheet_rows(public, "Xếp hạng")[0]]
    rows = values(sheet_rows(public, "Xếp hạng"))[1:]
    assert [r[header.index("Điểm")] for r in rows] == [3, 2, 2, 1]  # version 1, as published
    about = info(public)
    assert about["Kết quả xếp hạng"].startswith("Phiên bản 1 — Đã công bố")
    assert about["Bản xuất"].startswith("Bản để công bố")

    internal = write(export_target(round_id=results.round.pk))
    rows = values(sheet_rows(internal, "Xếp hạng"))[1:]
    assert rows[0][header.index("Điểm")] == 9  # the internal workbook holds the newest version, and says so
    assert info(internal)["Kết quả xếp hạng"].startswith("Phiên bản 2 — Bản nháp")


def test_a_publication_export_of_a_contest_leaves_out_unpublished_rounds(results, org_a):
    from tests.contests.factories import RoundFactory

    other = RoundFactory(contest=results.round.contest, name="Tuần chưa công bố", position=2,
                         opens_at=results.round.opens_at, closes_at=results.round.closes_at,
                         closed_at=results.round.closed_at)
    ranking_compute(round=other)
    publish(ranking_compute(round=results.round), org_a)
    book = write(export_target(contest_id=results.round.contest.pk, published=True))
    about = info(book)
    assert about[f"Kết quả xếp hạng — {other.name}"] == "Chưa công bố: không có trong bản này"
    rounds = {r[0] for r in values(sheet_rows(book, "Xếp hạng"))[1:]}
    assert rounds == {results.round.name}


def test_answers_cannot_be_published_and_jobs_record_the_versions(results, org_a, export_media):
    from exports import errors
    from exports.services import export_job_request, export_job_run

    organiser = make_staff(org_a, "organiser")
    ranking = publish(ranking_compute(round=results.round), org_a)
    with pytest.raises(errors.ExportPublishedAnswers):
        export_job_request(actor=organiser, contest=results.round.contest, round=results.round,
                           kind="answers_csv", published=True)
    job = export_job_run(job_id=export_job_request(actor=organiser, contest=results.round.contest,
                                                   round=results.round, published=True).pk)
    assert job.published is True
    assert job.rankings == [{"round_id": results.round.pk, "version": ranking.version, "status": "published"}]
