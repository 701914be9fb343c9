"""The assignments API: the contract, and each rule by role."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assignments.models import Assignment, AssignmentAttachment, AssignmentStatus, Submission, SubmissionStatus
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.assignments.factories import AssignmentFactory, class_of, grade, hand_in
from tests.files.samples import pdf, png
from tests.materials.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "No such assignment.", "code": "not_found"}


@pytest.fixture
def world():
    """One class (teacher, subject, alice and bob), alice's tutor and parent, and an unrelated class."""
    teacher, subject, (alice, bob) = class_of(2)
    tutor, parent = TutorFactory(), ParentFactory()
    link_student(alice, tutor=tutor, parent=parent)
    other_teacher, _, (carol,) = class_of(1, subject=subject)
    return {
        "teacher": teacher,
        "subject": subject,
        "alice": alice,
        "bob": bob,
        "tutor": tutor,
        "parent": parent,
        "other_teacher": other_teacher,
        "carol": carol,
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _new(world, **kwargs) -> Assignment:
    return AssignmentFactory(teacher=world["teacher"], subject=world["subject"], **kwargs)


# --- create and edit ------------------------------------------------------------------------------------


def test_teacher_creates_a_draft_for_chosen_students(world, make_client):
    due_at = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    response = make_client(world["teacher"]).post(
        "/api/assignments/",
        {
            "title": "Fractions",
            "description": "Page 12",
            "subject": world["subject"].pk,
            "due_at": due_at.isoformat(),
            "max_score": "20",
            "allow_late": True,
            "assigned_to": [world["alice"].pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["max_score"] == "20.00" and body["assigned_to"] == [world["alice"].pk]
    assert body["teacher"]["id"] == world["teacher"].pk
    assert body["subject"] == {"id": world["subject"].pk, "name": world["subject"].name}
    assert body["counts"] == {"received": 1, "submitted": 0, "graded": 0, "returned": 0, "late": 0}
    assert body["published_at"] is None


def test_create_refuses_strangers_and_bad_scores(world, make_client):
    client = make_client(world["teacher"])
    base = {"title": "t", "subject": world["subject"].pk, "due_at": timezone.now().isoformat(), "max_score": "10"}
    response = client.post("/api/assignments/", {**base, "assigned_to": [world["carol"].pk]})
    missing = client.post("/api/assignments/", {**base, "assigned_to": [2**62]})
    # Another teacher's student is answered exactly like an id that does not exist.
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert response.json() == missing.json()
    for bad in ("0", "-1", "1000.01", "1.234"):
        response = client.post("/api/assignments/", {**base, "max_score": bad})
        assert response.status_code == 400, bad
        assert "max_score" in response.json()["fields"]


@pytest.mark.parametrize("role", ["alice", "tutor", "parent"])
def test_only_teachers_create(world, make_client, role):
    response = make_client(world[role]).post(
        "/api/assignments/",
        {"title": "t", "subject": world["subject"].pk, "due_at": timezone.now().isoformat(), "max_score": "10"},
    )
    assert response.status_code == 403


def test_patch_publish_close_by_role(world, make_client):
    assignment = _new(world, status=AssignmentStatus.DRAFT, published_at=None)
    url = f"/api/assignments/{assignment.pk}/"
    assert make_client(world["other_teacher"]).patch(url, {"title": "x"}).json() == NOT_FOUND
    assert make_client(world["alice"]).patch(url, {"title": "x"}).status_code == 403
    teacher = make_client(world["teacher"])
    response = teacher.patch(url, {"title": "Renamed", "status": "published"})
    assert response.status_code == 200, response.content
    assert (response.json()["title"], response.json()["status"]) == ("Renamed", "published")
    for role in ("alice", "tutor", "parent", "other_teacher"):
        assert make_client(world[role]).post(f"{url}close/").status_code in (403, 404)
    assert teacher.post(f"{url}close/").json()["status"] == "closed"
    response = teacher.post(f"{url}close/")
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert teacher.put(url, {"title": "x"}).status_code == 405


def test_delete(world, make_client):
    assignment = _new(world)
    url = f"/api/assignments/{assignment.pk}/"
    assert make_client(world["tutor"]).delete(url).status_code == 403
    assert make_client(world["other_teacher"]).delete(url).status_code == 404
    assert make_client(world["teacher"]).delete(url).status_code == 204
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


# --- visibility -----------------------------------------------------------------------------------------


def test_visibility_by_role(world, make_client):
    draft = _new(world, status=AssignmentStatus.DRAFT, published_at=None)
    whole_class = _new(world)
    closed = _new(world, status=AssignmentStatus.CLOSED)
    only_bob = _new(world, students=[world["bob"]])
    foreign = AssignmentFactory(teacher=world["other_teacher"], subject=world["subject"])

    def visible(role):
        return sorted(_ids(make_client(world[role]).get("/api/assignments/?page_size=100")))

    assert visible("teacher") == sorted([draft.pk, whole_class.pk, closed.pk, only_bob.pk])
    assert visible("alice") == sorted([whole_class.pk, closed.pk])
    assert visible("bob") == sorted([whole_class.pk, closed.pk, only_bob.pk])
    assert visible("tutor") == visible("parent") == sorted([whole_class.pk, closed.pk])
    assert visible("carol") == [foreign.pk]
    admin = make_client(AdminFactory())
    assert sorted(_ids(admin.get("/api/assignments/"))) == sorted(
        [draft.pk, whole_class.pk, closed.pk, only_bob.pk, foreign.pk]
    )
    # Hidden ones answer exactly like missing ones.
    alice = make_client(world["alice"])
    for hidden in (draft, only_bob, foreign):
        response = alice.get(f"/api/assignments/{hidden.pk}/")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert alice.get("/api/assignments/999999/").json() == NOT_FOUND


def test_a_student_who_leaves_the_class_no_longer_receives_whole_class_assignments(world, make_client):
    assignment = _new(world)
    world["alice"].enrollments.update(is_active=False)
    assert make_client(world["alice"]).get(f"/api/assignments/{assignment.pk}/").status_code == 404


def test_explicit_recipients_are_shown_only_as_far_as_the_caller_may_see(world, make_client):
    assignment = _new(world, students=[world["alice"], world["bob"]])
    url = f"/api/assignments/{assignment.pk}/"
    both = sorted([world["alice"].pk, world["bob"].pk])
    assert sorted(make_client(world["teacher"]).get(url).json()["assigned_to"]) == both
    assert make_client(world["alice"]).get(url).json()["assigned_to"] == [world["alice"].pk]
    assert make_client(world["parent"]).get(url).json()["assigned_to"] == [world["alice"].pk]


def test_student_sees_their_submission_summary_and_teacher_the_counts(world, make_client):
    assignment = _new(world, allow_late=True)
    other = _new(world)
    alice = make_client(world["alice"])
    rows = {row["id"]: row for row in alice.get("/api/assignments/").json()["results"]}
    assert rows[assignment.pk]["submission"] is None
    assert "counts" not in rows[assignment.pk]

    late_at = assignment.due_at + timedelta(minutes=1)
    submission = grade(hand_in(assignment, world["alice"], now=late_at), "7.5")
    hand_in(assignment, world["bob"])
    rows = {row["id"]: row for row in alice.get("/api/assignments/").json()["results"]}
    assert rows[assignment.pk]["submission"] == {
        "id": submission.pk,
        "status": "graded",
        "score": "7.50",
        "submitted_at": late_at.isoformat().replace("+00:00", "Z"),
        "is_late": True,
        "attempt": 1,
    }
    assert rows[other.pk]["submission"] is None

    rows = {row["id"]: row for row in make_client(world["teacher"]).get("/api/assignments/").json()["results"]}
    assert rows[assignment.pk]["counts"] == {"received": 2, "submitted": 2, "graded": 1, "returned": 0, "late": 1}
    assert rows[other.pk]["counts"] == {"received": 2, "submitted": 0, "graded": 0, "returned": 0, "late": 0}
    assert "submission" not in rows[assignment.pk]


def test_list_filters_and_search(world, make_client):
    soon = _new(world, title="Algebra drill", due_at=timezone.now() + timedelta(days=1))
    later = _new(world, title="Essay", due_at=timezone.now() + timedelta(days=10))
    draft = _new(world, status=AssignmentStatus.DRAFT, published_at=None)
    client = make_client(world["teacher"])
    assert _ids(client.get("/api/assignments/")) == [soon.pk, draft.pk, later.pk]
    assert _ids(client.get("/api/assignments/?status=draft")) == [draft.pk]
    assert _ids(client.get("/api/assignments/?search=algebra")) == [soon.pk]
    assert _ids(client.get("/api/assignments/?ordering=-due_at")) == [later.pk, draft.pk, soon.pk]
    cutoff = (timezone.now() + timedelta(days=5)).isoformat()
    assert _ids(client.get("/api/assignments/", {"due_after": cutoff})) == [draft.pk, later.pk]
    assert _ids(client.get(f"/api/assignments/?subject={world['subject'].pk + 1000}")) == []


# --- hand-ins -------------------------------------------------------------------------------------------


def test_student_hands_in_text_and_files_then_resubmits(world, make_client):
    assignment = _new(world)
    alice = make_client(world["alice"])
    url = f"/api/assignments/{assignment.pk}/submissions/"
    response = alice.post(url, {"text": "v1", "files": [pdf("answer.pdf"), png("board.png")]}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["attempt"], body["text"], body["is_late"]) == ("submitted", 1, "v1", False)
    assert [f["name"] for f in body["files"]] == ["answer.pdf", "board.png"]
    assert body["files"][0]["url"] == f"/api/assignments/submissions/{body['id']}/files/{body['files'][0]['id']}/"

    response = alice.post(url, {"text": "v2"}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert (body["attempt"], body["text"], body["files"]) == (2, "v2", [])
    assert [(a["number"], a["text"], len(a["files"])) for a in body["attempts"]] == [(1, "v1", 2), (2, "v2", 0)]

    response = make_client(world["teacher"]).get(f"/api/assignments/submissions/{body['id']}/")
    assert [a["number"] for a in response.json()["attempts"]] == [1, 2]


def test_hand_in_refusals_over_http(world, make_client):
    alice = make_client(world["alice"])
    past = timezone.now() - timedelta(seconds=1)
    strict = _new(world, due_at=past)
    response = alice.post(f"/api/assignments/{strict.pk}/submissions/", {"text": "x"})
    assert (response.status_code, response.json()["code"]) == (400, "past_due")
    lenient = _new(world, due_at=past, allow_late=True)
    response = alice.post(f"/api/assignments/{lenient.pk}/submissions/", {"text": "x"})
    assert (response.status_code, response.json()["is_late"]) == (201, True)
    closed = _new(world, status=AssignmentStatus.CLOSED)
    response = alice.post(f"/api/assignments/{closed.pk}/submissions/", {"text": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "assignment_closed")
    response = alice.post(f"/api/assignments/{_new(world).pk}/submissions/", {"text": ""})
    assert (response.status_code, response.json()["code"]) == (400, "submission_empty")
    six = [pdf(f"{n}.pdf") for n in range(6)]
    response = alice.post(f"/api/assignments/{_new(world).pk}/submissions/", {"files": six}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "too_many_files")


def test_uploads_follow_the_materials_rules(world, make_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice = make_client(world["alice"])
    url = f"/api/assignments/{_new(world).pk}/submissions/"
    script = SimpleUploadedFile("run.pdf", b"#!/bin/sh\necho hi\n" * 10, content_type="application/pdf")
    response = alice.post(url, {"files": [script]}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "file_type_not_allowed")
    renamed = SimpleUploadedFile("photo.pdf", png().read(), content_type="application/pdf")
    response = alice.post(url, {"files": [renamed]}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "file_extension_mismatch")
    assert not Submission.objects.exists()


@pytest.mark.parametrize("role", ["teacher", "tutor", "parent", "other_teacher"])
def test_only_students_hand_in(world, make_client, role):
    response = make_client(world[role]).post(f"/api/assignments/{_new(world).pk}/submissions/", {"text": "x"})
    assert response.status_code in (403, 404)
    assert not Submission.objects.exists()


def test_submission_lists_and_details_by_role(world, make_client):
    assignment = _new(world)
    mine = hand_in(assignment, world["alice"])
    bobs = hand_in(assignment, world["bob"])
    url = f"/api/assignments/{assignment.pk}/submissions/"
    assert _ids(make_client(world["teacher"]).get(url)) == [mine.pk, bobs.pk]
    assert _ids(make_client(world["alice"]).get(url)) == [mine.pk]
    assert _ids(make_client(world["tutor"]).get(url)) == [mine.pk]
    assert _ids(make_client(world["parent"]).get(url)) == [mine.pk]
    assert _ids(make_client(world["teacher"]).get(url + f"?student={world['bob'].pk}")) == [bobs.pk]
    assert make_client(world["other_teacher"]).get(url).status_code == 404
    response = make_client(world["teacher"]).get(url + "?status=lost")
    assert response.status_code == 400 and "status" in response.json()["fields"]

    detail = f"/api/assignments/submissions/{bobs.pk}/"
    for role in ("alice", "tutor", "parent", "other_teacher", "carol"):
        response = make_client(world[role]).get(detail)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert make_client(world["bob"]).get(detail).status_code == 200


# --- grading --------------------------------------------------------------------------------------------


def test_grading_over_http_by_role(world, make_client):
    assignment = _new(world, max_score=Decimal("20.00"))
    submission = hand_in(assignment, world["alice"])
    url = f"/api/assignments/submissions/{submission.pk}/grade/"
    assert make_client(world["other_teacher"]).post(url, {"score": "5"}).status_code == 404
    for role in ("alice", "tutor", "parent"):
        assert make_client(world[role]).post(url, {"score": "5"}).status_code == 403
    teacher = make_client(world["teacher"])
    response = teacher.post(url, {"score": "20.01"})
    assert (response.status_code, response.json()["code"]) == (400, "score_out_of_range")
    response = teacher.post(url, {"score": "12.345"})
    assert response.status_code == 400 and "score" in response.json()["fields"]
    response = teacher.post(url, {"score": "-1"})
    assert response.status_code == 400 and "score" in response.json()["fields"]
    response = teacher.post(url, {"score": "17.5", "feedback": "Good"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["score"], body["feedback"], body["graded_by"]["id"]) == (
        "graded",
        "17.50",
        "Good",
        world["teacher"].pk,
    )
    assert body["graded_at"] is not None
    body = teacher.post(url, {"score": "19"}).json()
    assert [(row["action"], row["score"]) for row in body["grade_history"]] == [
        ("graded", "17.50"),
        ("graded", "19.00"),
    ]
    parent_view = make_client(world["parent"]).get(f"/api/assignments/submissions/{submission.pk}/").json()
    assert parent_view["score"] == "19.00"


def test_return_for_rework_over_http(world, make_client):
    assignment = _new(world)
    submission = hand_in(assignment, world["alice"])
    url = f"/api/assignments/submissions/{submission.pk}/return/"
    assert make_client(world["alice"]).post(url, {"feedback": "x"}).status_code == 403
    teacher = make_client(world["teacher"])
    assert teacher.post(url, {}).status_code == 400
    response = teacher.post(url, {"feedback": "Redo question 3"})
    assert (response.status_code, response.json()["status"]) == (200, "returned")
    response = teacher.post(url, {"feedback": "again"})
    assert (response.status_code, response.json()["code"]) == (409, "not_returnable")
    response = make_client(world["alice"]).post(f"/api/assignments/{assignment.pk}/submissions/", {"text": "v2"})
    assert (response.status_code, response.json()["attempt"], response.json()["status"]) == (201, 2, "submitted")
    assert Submission.objects.get().status == SubmissionStatus.SUBMITTED


# --- files ----------------------------------------------------------------------------------------------


def test_attachments_upload_download_delete(world, make_client, django_capture_on_commit_callbacks):
    assignment = _new(world)
    url = f"/api/assignments/{assignment.pk}/attachments/"
    assert make_client(world["alice"]).post(url, {"file": pdf()}, format="multipart").status_code == 403
    assert make_client(world["other_teacher"]).post(url, {"file": pdf()}, format="multipart").status_code == 404
    response = make_client(world["teacher"]).post(url, {"file": pdf("sheet.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    attachment = response.json()
    assert (attachment["name"], attachment["content_type"]) == ("sheet.pdf", "application/pdf")
    download = attachment["url"]
    assert download == f"/api/assignments/{assignment.pk}/attachments/{attachment['id']}/"

    for role in ("alice", "parent", "teacher"):
        response = make_client(world[role]).get(download)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert response["Content-Disposition"].startswith('attachment; filename="sheet.pdf"')
        assert response["X-Content-Type-Options"] == "nosniff"
    assert make_client(world["carol"]).get(download).status_code == 404
    listed = make_client(world["alice"]).get(f"/api/assignments/{assignment.pk}/").json()["attachments"]
    assert [row["id"] for row in listed] == [attachment["id"]]

    stored = AssignmentAttachment.objects.get().file
    assert stored.storage.exists(stored.name)
    assert stored.name.startswith("assignments/") and "sheet" not in stored.name  # a generated name
    assert make_client(world["alice"]).delete(download).status_code == 403
    teacher = make_client(world["teacher"])
    with django_capture_on_commit_callbacks(execute=True):
        assert teacher.delete(download).status_code == 204
    assert not stored.storage.exists(stored.name)
    assert teacher.get(download).status_code == 404


def test_submission_files_are_served_only_to_those_who_see_the_submission(world, make_client):
    assignment = _new(world)
    submission = hand_in(assignment, world["alice"], files=[pdf("mine.pdf")])
    stored = submission.attempts.get().files.get()
    url = f"/api/assignments/submissions/{submission.pk}/files/{stored.pk}/"
    for role in ("alice", "teacher", "tutor", "parent"):
        response = make_client(world[role]).get(url)
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    for role in ("bob", "other_teacher", "carol"):
        assert make_client(world[role]).get(url).status_code == 404
    bobs = hand_in(assignment, world["bob"])
    # A file id under another submission's path is not found.
    assert (
        make_client(world["bob"]).get(f"/api/assignments/submissions/{bobs.pk}/files/{stored.pk}/").status_code == 404
    )


def test_anonymous_is_refused(api_client, world):
    assignment = _new(world)
    for url in ("/api/assignments/", f"/api/assignments/{assignment.pk}/", "/api/assignments/gradebook/"):
        assert api_client.get(url).status_code == 401


def test_student_of_another_teacher_in_the_same_subject_is_not_a_recipient(world, make_client):
    assignment = _new(world)
    newcomer = StudentFactory()
    EnrollmentFactory(student=newcomer, teacher=TeacherFactory(), subject=world["subject"])
    assert make_client(newcomer).get(f"/api/assignments/{assignment.pk}/").status_code == 404
