"""Staff pages of the question bank outside the admin: template download and a question preview that
renders exactly what a contestant would see (sanitised HTML, options, media) plus the key for reviewers."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.tenancy import is_staff_member
from questionbank.exporters.xlsx import write_template
from questionbank.selectors import questions_visible_to_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def template_download(request: HttpRequest) -> HttpResponse:
    if not is_staff_member(request.user):
        raise PermissionDenied
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_template(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename="mau-nhap-cau-hoi.xlsx", content_type=XLSX)


@login_required
def question_preview(request: HttpRequest, question_id: int) -> HttpResponse:
    if not is_staff_member(request.user):
        raise PermissionDenied
    question = questions_visible_to_user(user=request.user).select_related("topic").filter(pk=question_id).first()
    if question is None:
        raise Http404
    return render(request, "questionbank/preview.html", {
        "question": question, "options": question.options.order_by("position", "id"),
        "media": question.media.all(),
    })
