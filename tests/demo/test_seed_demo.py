"""`seed_demo --scale small`: counts per model, a second run adds nothing, every rule holds, logins work, and
the hour or day of seeding changes nothing but the timestamps (which shift by whole days)."""

import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery

from accounts.models import ParentProfile, Role, StudentProfile, TeacherProfile, TutorProfile, User
from assignments.models import (
    Assignment,
    AssignmentAttachment,
    GradeHistory,
    Submission,
    SubmissionAttempt,
    SubmissionFile,
    SubmissionStatus,
)
from chat.models import ChatRoom, Message, Participant, RoomKind
from chat.services import rooms_sync_for_student
from enrollments.models import Enrollment, Subject
from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory, Payment, PaymentStatus
from materials.models import Material, MaterialProgress, MaterialRecipient
from notifications.models import TelegramLinkCode
from scheduling.models import CalendarFeed, Lesson, LessonReminder, LessonStatus
from tests.demo.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SEEDED_MODELS = [
    User, StudentProfile, TeacherProfile, TutorProfile, ParentProfile, Subject, Enrollment, Material,
    MaterialRecipient, MaterialProgress, Lesson, LessonReminder, CalendarFeed, Assignment, Assignment.students.through,
    AssignmentAttachment, Submission, SubmissionAttempt, SubmissionFile, GradeHistory, ChatRoom, Participant, Message,
    Invoice, InvoiceStatusHistory, Payment, TelegramLinkCode,
]  # fmt: skip


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in SEEDED_MODELS}


# Seeding moments on either side of a week and a month boundary, at night and in the afternoon: a Sunday 00:30,
# a Monday 13:45 (the next day, and the next month) and a Wednesday 23:30.
MOMENTS = [
    datetime(2026, 5, 31, 0, 30, tzinfo=UTC),
    datetime(2026, 6, 1, 13, 45, tzinfo=UTC),
    datetime(2026, 6, 3, 23, 30, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS[:2], ids=["sunday-0030", "monday-1345"])
def test_small_scale_makes_the_expected_people_and_volumes(seed, moment):
    with time_machine.travel(moment, tick=False):
        seed("small")

    per_role = dict(User.objects.values_list("role").annotate(n=Count("id")))
    assert per_role[Role.STUDENT] == 50
    assert per_role[Role.TEACHER] == 6
    assert per_role[Role.TUTOR] == 4
    assert per_role[Role.ADMIN] == 2
    assert 30 <= per_role[Role.PARENT] <= 45  # most students have one, siblings share
    assert Subject.objects.count() == 6
    assert 700 <= Lesson.objects.count() <= 900
    assert 3_800 <= Message.objects.count() <= 4_200
    assert 340 <= Invoice.objects.count() <= 460
    assert StudentProfile.objects.count() == 50
    empty = [label for label, count in counts().items() if count == 0 and label != "notifications.TelegramLinkCode"]
    assert empty == []


def test_a_second_run_adds_nothing_and_keeps_the_logins(seed):
    first, _ = seed("small")
    before = counts()

    second, output = seed("small")

    assert counts() == before
    assert "already present" in output
    assert second["logins"] == first["logins"]
    assert second["pool"] == first["pool"]
    assert second["scale"] == "small"

    third, output = seed("medium")  # another scale over existing demo data: reported, not mixed in
    assert counts() == before
    assert third["scale"] == "small"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's cluster-wide catalogs")
def test_seeding_in_a_transaction_locks_no_catalog_of_the_whole_cluster(seed):
    """Seeded inside a transaction (here the test's; tests/fuzz/ seeds in one per module), the planner statistics
    cover our tables only: a bare ANALYZE held pg_database's and pg_authid's lock until the transaction ended, and
    every other database's ANALYZE of them (another xdist worker seeding) waited for it."""
    seed("small")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = pg_backend_pid() AND c.relisshared AND l.mode = 'ShareUpdateExclusiveLock'"
        )
        assert cursor.fetchall() == []


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(seed):
    seed("small", seed=7)
    shape = _shape()
    _wipe()
    seed("small", seed=7)
    assert _shape() == shape
    _wipe()
    seed("small", seed=8)
    assert _shape() != shape


class _Rollback(Exception):
    pass


def _seeded_at(seed, moment: datetime) -> dict:
    """Seed at `moment` (the clock frozen there) and describe what was made, then roll it all back: the row count
    of every table, and the rows that carry the time, as offsets from the seeding day's midnight."""
    anchor = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    with time_machine.travel(moment, tick=False):
        try:
            with transaction.atomic():
                seed("small", seed=3)
                described = {
                    "rows": {model._meta.label: model._base_manager.count() for model in apps.get_models()},
                    "lessons": sorted(
                        (student, teacher, start - anchor, status)
                        for student, teacher, start, status in Lesson.objects.values_list(
                            "student__email", "teacher__email", "start", "status"
                        )
                    ),
                    "invoices": sorted(
                        (student, created - anchor, due - anchor.date(), status, amount)
                        for student, created, due, status, amount in Invoice.objects.values_list(
                            "student__email", "created_at", "due_date", "status", "amount"
                        )
                    ),
                    "submissions": sorted(
                        Submission.objects.values_list("student__email", "assignment__title", "status", "is_late")
                    ),
                    "reminders": LessonReminder.objects.count(),
                    "messages": sorted(Message.objects.values_list("room__kind", "sender__email", "text"), key=repr),
                }
                raise _Rollback
        except _Rollback:
            pass
    return described


def test_the_time_of_seeding_changes_only_the_timestamps(seed):
    """The same seed at night and in the afternoon, on a Sunday and on the Monday of the next month, and on another
    day at 23:30: the same rows in every table, and the same lessons, invoices, submissions and messages, their
    times moved by whole days with the seeding day."""
    first = _seeded_at(seed, MOMENTS[0])
    assert first["rows"]["scheduling.Lesson"] > 0 and first["reminders"] > 0
    for moment in MOMENTS[1:]:
        other = _seeded_at(seed, moment)
        assert other["rows"] == first["rows"], moment
        assert other == first, moment


def test_seeded_past_and_future_follow_the_seeding_day(seed):
    """Past lessons are finished and future ones are open, against the seeding day's midnight; nothing seeded as
    done lies after it."""
    moment = MOMENTS[1]
    anchor = moment.replace(hour=0, minute=0)
    with time_machine.travel(moment, tick=False):
        seed("small")
    assert not Lesson.objects.filter(start__lt=anchor, status=LessonStatus.SCHEDULED).exists()
    assert (
        not Lesson.objects.filter(start__gte=anchor)
        .exclude(status__in=[LessonStatus.SCHEDULED, LessonStatus.CANCELLED])
        .exists()
    )
    assert not LessonReminder.objects.filter(lesson_start__gte=anchor).exists()
    assert not Message.objects.filter(created_at__gt=anchor).exists()
    assert not Invoice.objects.filter(paid_at__gt=anchor).exists()
    assert TelegramLinkCode.objects.filter(expires_at__gt=moment + timedelta(minutes=1)).count() == (
        TelegramLinkCode.objects.count()
    )


def _shape() -> list:
    """Who learns what with whom, and how much each has: independent of ids."""
    lessons = Count("student__lessons", filter=Q(student__lessons__subject=F("subject")))
    enrollments = Enrollment.objects.annotate(lessons=lessons).values_list(
        "student__email", "teacher__email", "subject__name", "is_active", "lessons"
    )
    return [*sorted(enrollments), Message.objects.count(), Invoice.objects.count()]


def _wipe() -> None:
    """Delete everything seeded, children first (several foreign keys protect)."""
    Invoice.objects.update(payment=None, enrollment=None)
    ChatRoom.objects.update(last_message=None)
    for model in [
        InvoiceStatusHistory, Payment, Invoice, TelegramLinkCode, Message, Participant, ChatRoom, GradeHistory,
        SubmissionFile, SubmissionAttempt, Submission, AssignmentAttachment, Assignment, LessonReminder, Lesson,
        CalendarFeed, MaterialProgress, MaterialRecipient, Material, Enrollment, Subject, StudentProfile, User,
    ]:  # fmt: skip
        model.objects.all().delete()


def test_no_two_lessons_of_a_teacher_or_of_a_student_overlap(seed):
    seed("small")
    for person in ("teacher", "student"):
        clash = Lesson.objects.filter(
            **{person: OuterRef(person)}, start__lt=OuterRef("end"), end__gt=OuterRef("start")
        ).exclude(pk=OuterRef("pk"))
        assert not Lesson.objects.filter(Exists(clash)).exists(), person
    # Every lesson belongs to an enrollment of its student with its teacher in its subject.
    orphans = Lesson.objects.exclude(
        pk__in=Lesson.objects.filter(
            student__enrollments__teacher=F("teacher"), student__enrollments__subject=F("subject")
        ).values("pk")
    )
    assert not orphans.exists()
    assert Lesson.objects.filter(status=LessonStatus.SCHEDULED).exists()


def test_links_roles_and_enrollments_follow_the_rules(seed):
    seed("small")
    assert not StudentProfile.objects.exclude(tutor=None).exclude(tutor__role=Role.TUTOR).exists()
    assert not StudentProfile.objects.exclude(parent=None).exclude(parent__role=Role.PARENT).exists()
    double = Enrollment.objects.filter(is_active=True).values("student", "subject").annotate(n=Count("id"))
    assert not double.filter(n__gt=1).exists()
    assert not Enrollment.objects.exclude(teacher__role=Role.TEACHER).exists()
    assert not Enrollment.objects.exclude(student__role=Role.STUDENT).exists()
    assert not Material.objects.exclude(author__role=Role.TEACHER).exists()


def test_invoices_move_through_their_lifecycle_in_time_order(seed):
    seed("small")
    invoices = Invoice.objects.all()
    assert not invoices.filter(sent_at__lt=F("created_at")).exists()
    assert not invoices.filter(viewed_at__lt=F("sent_at")).exists()
    assert not invoices.filter(paid_at__lt=F("viewed_at")).exists()
    assert not invoices.filter(paid_at__lt=F("sent_at")).exists()
    assert (
        not invoices.exclude(status=InvoiceStatus.DRAFT)
        .exclude(status=InvoiceStatus.CANCELLED, sent_at=None)
        .filter(sent_at=None)
        .exists()
    )
    paid = invoices.filter(status=InvoiceStatus.PAID)
    assert paid.exists()
    assert not paid.exclude(payment__status=PaymentStatus.SUCCEEDED).exists()
    assert not paid.exclude(parent_id=F("student__student_profile__parent_id")).exists()
    assert not invoices.exclude(tutor_id=F("student__student_profile__tutor_id")).exists()
    latest = InvoiceStatusHistory.objects.filter(invoice=OuterRef("pk")).order_by("-changed_at", "-id")
    wrong = invoices.exclude(status=InvoiceStatus.DRAFT).exclude(status=Subquery(latest.values("new_status")[:1]))
    assert not wrong.exists()
    assert not Submission.objects.filter(status=SubmissionStatus.GRADED, score__gt=F("assignment__max_score")).exists()


def test_chat_rooms_are_what_the_chat_app_would_make(seed):
    seed("small")
    rooms, participants = ChatRoom.objects.count(), Participant.objects.count()
    for student in User.objects.filter(role=Role.STUDENT).values_list("pk", flat=True):
        rooms_sync_for_student(student)
    assert (ChatRoom.objects.count(), Participant.objects.count()) == (rooms, participants)
    assert ChatRoom.objects.filter(kind=RoomKind.GROUP).exists()

    last = Message.objects.filter(room=OuterRef("pk")).order_by("-id")
    stale = ChatRoom.objects.exclude(last_message=None).exclude(last_message_id=Subquery(last.values("id")[:1]))
    assert not stale.exists()
    assert (
        not ChatRoom.objects.exclude(last_message=None).exclude(last_activity_at=F("last_message__created_at")).exists()
    )
    tops = dict(Message.objects.values_list("room").annotate(top=Max("id")))
    for room_id, read in Participant.objects.values_list("room_id", "last_read_message_id"):
        assert read <= tops.get(room_id, 0)
    # Read-only tutors never write; every sender is a writing member of the room.
    writers = Participant.objects.filter(room=OuterRef("room"), user=OuterRef("sender"), read_only=False)
    assert not Message.objects.exclude(sender=None).exclude(Exists(writers)).exists()
    # Ids follow time, as when messages are sent.
    times = list(Message.objects.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times)


def test_the_demo_logins_work_and_the_demo_people_have_data(seed, api_client, client_factory):
    data, output = seed("small")
    assert set(data) == {"scale", "seed", "logins", "pool"}
    assert data["scale"] == "small"
    for role in Role.values:
        assert f"{role}@demo.thebot" in output
        assert len(data["pool"][role]) == {"teacher": 5, "tutor": 3, "admin": 1}.get(role, 20)

    tokens = {}
    for role, login in data["logins"].items():
        response = api_client.post("/api/auth/login/", {"email": login["email"], "password": PASSWORD}, format="json")
        assert response.status_code == 200, role
        assert response.json()["user"]["id"] == login["id"]
        tokens[role] = response.json()["token"]
    pooled = data["pool"]["student"][-1]
    response = api_client.post("/api/auth/login/", {"email": pooled["email"], "password": PASSWORD}, format="json")
    assert response.status_code == 200

    ids = {role: login["id"] for role, login in data["logins"].items()}
    profile = StudentProfile.objects.get(user_id=ids["student"])
    assert (profile.tutor_id, profile.parent_id) == (ids["tutor"], ids["parent"])
    assert Enrollment.objects.filter(student_id=ids["student"], teacher_id=ids["teacher"], is_active=True).exists()

    student = client_factory(tokens["student"])
    for path in ["/api/materials/", "/api/scheduling/lessons/", "/api/assignments/", "/api/chat/rooms/"]:
        assert _items(student.get(path)), path
    assert _items(client_factory(tokens["parent"]).get("/api/invoices/"))
    assert _items(client_factory(tokens["admin"]).get("/api/admin/users/"))
    assert Message.objects.filter(room__participants__user_id=ids["student"]).exists()
    assert Invoice.objects.filter(student_id=ids["student"]).exists()


def _items(response) -> list:
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


@pytest.fixture
def client_factory():
    from rest_framework.test import APIClient

    def make(token: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SEED_MEDIUM"), reason="set SEED_MEDIUM=1 to seed the medium scale")
def test_medium_scale_volumes(seed):
    data, _ = seed("medium")
    assert User.objects.filter(role=Role.STUDENT).count() == 1_000
    assert User.objects.filter(role=Role.TEACHER).count() == 60
    assert User.objects.filter(role=Role.TUTOR).count() == 40
    assert 18_000 <= Lesson.objects.count() <= 22_000
    assert 190_000 <= Message.objects.count() <= 210_000
    assert 18_000 <= Invoice.objects.count() <= 22_000
    assert all(len(data["pool"][role]) == 20 for role in ("student", "teacher", "tutor", "parent"))
    if connection.vendor == "postgresql":  # the exclusion constraints accepted every scheduled lesson
        assert Lesson.objects.filter(status=LessonStatus.SCHEDULED).exists()
