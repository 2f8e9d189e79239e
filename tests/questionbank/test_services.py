from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import AuditEvent, Role
from questionbank import selectors
from questionbank.errors import MediaRejected, QuestionPermissionDenied, QuestionStateError, QuestionValidationError
from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionMedia, QuestionStatus, QuestionType, Visibility
from questionbank.services._common import MAX_STEM_CHARS, _used_checkers, register_used_checker
from questionbank.services.imports import (
    import_upload_store,
    import_upload_take,
    import_uploads_purge,
    questions_import,
)
from questionbank.services.media import question_media_add
from questionbank.services.questions import question_create, question_update, topic_get_or_create_path
from questionbank.services.review import (
    question_approve,
    question_correct,
    question_corrected,
    question_reject,
    question_retire,
    question_submit_for_review,
)
from tests.factories import OrganisationFactory, make_staff
from tests.questionbank.factories import make_question, single_options, unique_stem

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP3 = b"ID3\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def writer_a(org_a):
    return make_staff(org_a, Role.WRITER)


@pytest.fixture
def reviewer_a(org_a):
    return make_staff(org_a, Role.REVIEWER)


@pytest.fixture
def used_ids():
    """Stand-in for the contests app's checker: question ids drawn by attempts."""
    ids: set[int] = set()

    def checker(question):
        return question.pk in ids

    register_used_checker(checker)
    yield ids
    _used_checkers.remove(checker)


def _create(org, author, **kw):
    kw.setdefault("options", single_options())
    return question_create(organisation=org, author=author, type=kw.pop("type", "single"),
                                    stem=kw.pop("stem", unique_stem()), **kw)


# --- Workflow and permissions --------------------------------------------------------------------------
def test_full_workflow(writer_a, reviewer_a, org_a):
    q = _create(org_a, writer_a)
    assert (q.status, q.version, q.family_id, q.is_current) == (QuestionStatus.DRAFT, 1, q.pk, True)
    q = question_submit_for_review(question=q, actor=writer_a)
    assert q.status == QuestionStatus.IN_REVIEW
    q = question_approve(question=q, actor=reviewer_a)
    assert q.status == QuestionStatus.APPROVED
    assert q.reviewer == reviewer_a
    assert q.reviewed_at
    assert AuditEvent.objects.filter(action="question.approve", target_id=str(q.pk)).exists()
    q = question_retire(question=q, actor=reviewer_a, reason="Luật đã hết hiệu lực")
    assert q.status == QuestionStatus.RETIRED
    assert not selectors.questions_available_for(organisation=org_a).filter(pk=q.pk).exists()


def test_writer_cannot_approve_own_question_even_with_reviewer_role(org_a):
    both = make_staff(org_a, Role.WRITER, Role.REVIEWER)
    q = _create(org_a, both, status=QuestionStatus.IN_REVIEW)
    with pytest.raises(QuestionPermissionDenied, match="tự duyệt"):
        question_approve(question=q, actor=both)
    q.refresh_from_db()
    assert q.status == QuestionStatus.IN_REVIEW


def test_approval_needs_reviewer_role_in_owner_org(org_a, org_b, writer_a):
    q = _create(org_a, writer_a, status=QuestionStatus.IN_REVIEW)
    for actor in (make_staff(org_a, Role.WRITER), make_staff(org_a, Role.ORGANISER),
                  make_staff(org_b, Role.REVIEWER)):
        with pytest.raises(QuestionPermissionDenied):
            question_approve(question=q, actor=actor)
    assert Question.objects.get(pk=q.pk).status == QuestionStatus.IN_REVIEW


def test_only_in_review_can_be_approved(org_a, writer_a, reviewer_a):
    q = _create(org_a, writer_a)
    with pytest.raises(QuestionStateError):
        question_approve(question=q, actor=reviewer_a)


def test_reject_needs_note_and_returns_to_draft(org_a, writer_a, reviewer_a):
    q = _create(org_a, writer_a, status=QuestionStatus.IN_REVIEW)
    with pytest.raises(QuestionValidationError):
        question_reject(question=q, actor=reviewer_a, note="  ")
    q = question_reject(question=q, actor=reviewer_a, note="Sai căn cứ pháp lý")
    assert q.status == QuestionStatus.DRAFT
    assert q.review_note == "Sai căn cứ pháp lý"


def test_non_writer_cannot_create(org_a, org_b):
    with pytest.raises(QuestionPermissionDenied):
        _create(org_a, make_staff(org_a, Role.ORGANISER))
    with pytest.raises(QuestionPermissionDenied):
        _create(org_a, make_staff(org_b, Role.WRITER))
    with pytest.raises(QuestionPermissionDenied):
        _create(org_a, make_staff(org_a, Role.WRITER), status=QuestionStatus.APPROVED)


def test_questions_available_for_only_approved_current_visible(org_a, org_b):
    approved_a = make_question(org_a)
    shared_b = make_question(org_b, visibility=Visibility.SHARED)
    private_b = make_question(org_b, visibility=Visibility.PRIVATE)
    draft_a = make_question(org_a, status=QuestionStatus.DRAFT)
    review_a = make_question(org_a, status=QuestionStatus.IN_REVIEW)
    available = set(selectors.questions_available_for(organisation=org_a).values_list("pk", flat=True))
    assert approved_a.pk in available
    assert shared_b.pk in available
    assert not {private_b.pk, draft_a.pk, review_a.pk} & available
    assert private_b.pk in set(selectors.questions_available_for(organisation=org_b).values_list("pk", flat=True))


def test_available_for_filters_topic_tree_and_difficulty(org_a):
    root = topic_get_or_create_path(path=["Giao thông"])
    child = topic_get_or_create_path(path=["Giao thông", "Xử phạt"])
    other = topic_get_or_create_path(path=["Hôn nhân"])
    q_root = make_question(org_a, topic=root, difficulty="easy")
    q_child = make_question(org_a, topic=child, difficulty="hard")
    make_question(org_a, topic=other, difficulty="easy")
    got = selectors.questions_available_for(organisation=org_a, topic_ids=[root.pk])
    assert set(got.values_list("pk", flat=True)) == {q_root.pk, q_child.pk}
    got = selectors.questions_available_for(organisation=org_a, topic_ids=[root.pk], difficulty="hard")
    assert list(got) == [q_child]
    got = selectors.questions_available_for(organisation=org_a, topic_ids=[root.pk], include_subtopics=False)
    assert list(got) == [q_root]


# --- Validation --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("qtype", "options", "message"), [
    ("single", [ParsedOption("A", Decimal(0)), ParsedOption("B", Decimal(0))], "Không có phương án đúng"),
    ("single", [ParsedOption("A", Decimal(1))], "ít nhất 2"),
    ("multiple", [ParsedOption("A", Decimal("0.5")), ParsedOption("B", Decimal("0.2")), ParsedOption("C")],
     "100%"),
    ("truefalse", [ParsedOption("Đúng", Decimal(1)), ParsedOption("Sai"), ParsedOption("Không rõ")], "đúng 2"),
    ("numeric", [ParsedOption("mười", Decimal(1))], "không phải là số"),
    ("single", [ParsedOption("A", Decimal(1)), ParsedOption("a.", Decimal(0))], "trùng"),
    ("single", [ParsedOption(chr(65 + i), Decimal(i == 0)) for i in range(9)], "Tối đa 8"),
    ("essay", [ParsedOption("x", Decimal(1))], "tự luận"),
])
def test_invalid_keys_rejected(org_a, qtype, options, message):
    with pytest.raises(QuestionValidationError) as info:
        question_create(organisation=org_a, author=None, type=qtype, stem=unique_stem(), options=options)
    assert any(message in m for m in info.value.messages), info.value.messages


def test_too_long_and_empty_stem(org_a):
    with pytest.raises(QuestionValidationError, match="quá dài"):
        _create(org_a, None, stem="x" * (MAX_STEM_CHARS + 1))
    with pytest.raises(QuestionValidationError, match="Thiếu nội dung"):
        _create(org_a, None, stem="<script>only script</script>")


def test_every_type_can_be_created(org_a):
    _create(org_a, None, type="multiple", options=[ParsedOption("A", Decimal("0.5")), ParsedOption("B", Decimal("0.5")),
                                                   ParsedOption("C", Decimal("-0.5"))])
    _create(org_a, None, type="truefalse", options=[ParsedOption("Đúng", Decimal(1)), ParsedOption("Sai")])
    q = _create(org_a, None, type="numeric", options=[ParsedOption("12", Decimal(1), tolerance=Decimal("0.5"))])
    assert q.options.get().tolerance == Decimal("0.5")
    _create(org_a, None, type="short", options=[ParsedOption("Luật Đất đai", Decimal(1))])
    _create(org_a, None, type="essay", options=[])
    assert Question.objects.count() == 5


def test_db_constraints_back_the_rules(org_a):
    q = make_question(org_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.filter(pk=q.pk).update(status="published")
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(organisation=org_a, stem="x", family_id=q.family_id, version=2, is_current=True)


# --- Versioning -----------------------------------------------------------------------------------------
def test_edit_unused_question_in_place(org_a, writer_a):
    q = _create(org_a, writer_a)
    q2 = question_update(question=q, actor=writer_a, stem="Nội dung đã sửa: người đi bộ sang đường?")
    assert q2.pk == q.pk
    assert q2.version == 1
    assert Question.objects.count() == 1


def test_edit_after_use_creates_new_version_and_keeps_old(org_a, writer_a, reviewer_a, used_ids):
    q = _create(org_a, writer_a, status=QuestionStatus.IN_REVIEW)
    q = question_approve(question=q, actor=reviewer_a)
    question_media_add(question=q, actor=writer_a, filename="a.png", content=PNG)
    old_options = list(q.options.values_list("text", "fraction"))
    used_ids.add(q.pk)
    new = question_update(
        question=q, actor=writer_a, stem="Câu hỏi đã được sửa sau khi dùng trong cuộc thi tuần 1?",
        options=[ParsedOption("Mới A", Decimal(0)), ParsedOption("Mới B", Decimal(1))])
    assert new.pk != q.pk
    assert (new.family_id, new.version, new.is_current) == (q.family_id, 2, True)
    # A changed approved question goes back to review before contestants see it.
    assert new.status == QuestionStatus.IN_REVIEW
    assert new.reviewer is None
    old = Question.objects.get(pk=q.pk)
    assert old.is_current is False
    assert old.status == QuestionStatus.APPROVED
    assert old.stem == q.stem
    assert list(old.options.values_list("text", "fraction")) == old_options
    assert new.media.count() == 1
    assert old.media.count() == 1
    assert not selectors.questions_available_for(organisation=org_a).filter(family_id=q.family_id).exists()
    with pytest.raises(QuestionStateError):
        question_update(question=old, actor=writer_a, stem="không được sửa bản cũ")


def test_metadata_only_edit_of_used_question_is_in_place(org_a, writer_a, used_ids):
    q = _create(org_a, writer_a)
    used_ids.add(q.pk)
    same = question_update(question=q, actor=writer_a, visibility=Visibility.PRIVATE)
    assert same.pk == q.pk
    assert same.visibility == Visibility.PRIVATE
    unchanged = question_update(question=q, actor=writer_a, stem=q.stem)
    assert unchanged.pk == q.pk
    assert Question.objects.count() == 1


def test_correction_is_audited_and_in_place(org_a, writer_a, reviewer_a, used_ids,
                                            django_capture_on_commit_callbacks):
    q = make_question(org_a)
    used_ids.add(q.pk)
    opts = list(q.options.order_by("position"))
    received = []

    def receiver(sender, question, audit_event, **kw):
        received.append((question.pk, audit_event.pk))

    question_corrected.connect(receiver)
    try:
        with pytest.raises(QuestionValidationError):
            question_correct(question=q, actor=reviewer_a, reason="", fractions={opts[1].pk: 1})
        with pytest.raises(QuestionPermissionDenied):
            question_correct(question=q, actor=writer_a, reason="x", fractions={opts[1].pk: 1})
        with pytest.raises(QuestionValidationError):  # no correct option left
            question_correct(question=q, actor=reviewer_a, reason="x", fractions={opts[0].pk: 0})
        with django_capture_on_commit_callbacks(execute=True):
            event = question_correct(question=q, actor=reviewer_a, reason="Đáp án đúng là B theo Điều 5",
                                              fractions={opts[0].pk: 0, opts[1].pk: 1})
    finally:
        question_corrected.disconnect(receiver)
    assert event.action == "question.correct"
    assert event.reason.startswith("Đáp án đúng")
    assert event.data["rescore"] is True
    assert event.data["before"]["options"][str(opts[0].pk)]["fraction"] == "1.00000"
    assert list(q.options.order_by("position").values_list("fraction", flat=True))[:2] == [0, 1]
    assert Question.objects.count() == 1  # no new version
    assert received == [(q.pk, event.pk)]


# --- Media -------------------------------------------------------------------------------------------------
def test_media_types_are_sniffed_not_trusted(org_a, writer_a):
    q = _create(org_a, writer_a)
    image = question_media_add(question=q, actor=writer_a, filename="anh.mp3", content=PNG)
    assert (image.kind, image.content_type) == (QuestionMedia.Kind.IMAGE, "image/png")
    assert image.file.name.endswith(".png")
    audio = question_media_add(question=q, actor=writer_a, filename="am-thanh.png", content=MP3)
    assert audio.kind == QuestionMedia.Kind.AUDIO
    for bad in (b"<svg onload=alert(1)></svg>", b"MZ\x90\x00 executable", b"%PDF-1.7"):
        with pytest.raises(MediaRejected):
            question_media_add(question=q, actor=writer_a, filename="anh.png", content=bad)


def test_media_size_limit(org_a, writer_a, settings):
    settings.QUESTION_IMAGE_MAX_BYTES = 1000
    q = _create(org_a, writer_a)
    with pytest.raises(MediaRejected, match="quá lớn"):
        question_media_add(question=q, actor=writer_a, filename="a.png", content=PNG + b"\x00" * 2000)


def test_topic_paths_nested_and_reused():
    a = topic_get_or_create_path(path=["Luật A", "Chương B", "Mục C"])
    b = topic_get_or_create_path(path=["Luật A", "Chương B", "Mục C"])
    assert a == b
    assert a.path == "Luật A / Chương B / Mục C"
    with pytest.raises(QuestionValidationError, match="chưa có"):
        topic_get_or_create_path(path=["Luật A", "Chương X"], create=False)


def test_type_label_choices_are_stable():
    assert set(QuestionType.values) == {"single", "multiple", "truefalse", "numeric", "short", "essay"}
    assert OrganisationFactory  # shared factory import stays used


def test_import_saves_media_and_links_moodle_references(org_a):
    from questionbank.importers.base import ParsedMedia, ParsedQuestion, ParseResult

    pq = ParsedQuestion(type="single", stem='<p>Biển này là gì?</p><img src="@@PLUGINFILE@@/bi%E1%BB%83n.png">',
                        options=single_options(), media=[ParsedMedia("biển.png", PNG, "image/png")], line=3)
    report = questions_import(organisation=org_a, result=ParseResult(questions=[pq]))
    assert report.errors == []
    q = Question.objects.get()
    media = q.media.get()
    assert media.kind == QuestionMedia.Kind.IMAGE
    assert "@@PLUGINFILE@@" not in q.stem
    assert media.file.url in q.stem


def test_import_refuses_bad_media_with_its_line(org_a):
    from questionbank.importers.base import ParsedMedia, ParsedQuestion, ParseResult

    pq = ParsedQuestion(type="single", stem="Câu có tệp lạ", options=single_options(),
                        media=[ParsedMedia("x.png", b"<svg onload=alert(1)>", "image/svg+xml")], line=7)
    report = questions_import(organisation=org_a, result=ParseResult(questions=[pq]))
    assert report.imported == 0
    assert report.errors[0]["line"] == 7
    assert Question.objects.count() == 0


def test_pending_import_uploads_are_single_use_and_purged():
    import datetime as dt

    from django.utils import timezone

    token = import_upload_store(data=b"abc")
    assert import_upload_take(token=token) == b"abc"
    assert import_upload_take(token=token) is None
    assert import_upload_take(token="../../etc/passwd") is None
    old = import_upload_store(data=b"old")
    assert import_uploads_purge() == 0
    assert import_uploads_purge(now=timezone.now() + dt.timedelta(days=2)) == 1
    assert import_upload_take(token=old) is None


def test_new_version_of_a_question_without_family(org_a, writer_a, used_ids):
    q = make_question(org_a, status=QuestionStatus.DRAFT)
    Question.objects.filter(pk=q.pk).update(family_id=None)
    q.refresh_from_db()
    used_ids.add(q.pk)
    new = question_update(question=q, actor=writer_a, stem="Phiên bản mới của câu hỏi không có họ?")
    assert new.family_id == q.pk
    assert new.version == 2
    assert Question.objects.get(pk=q.pk).family_id == q.pk
