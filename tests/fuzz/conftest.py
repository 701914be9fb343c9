"""Fixtures of the API fuzzing (tests/fuzz/): the small demo world seeded once per module and process, a real token
per role, the fake Telegram and payment provider, and the record of what each fuzzed operation answered."""

import datetime
import json
import urllib.parse

import pytest
from django.core import signals
from django.core.files.base import ContentFile
from django.db import close_old_connections, transaction
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from assignments.models import Assignment, SubmissionFile
from chat.models import Message
from demo.seeding import seed_demo
from demo.seeding.people import demo_email
from enrollments.models import Enrollment
from invoices.models import Invoice
from materials.models import Material, MaterialProgress
from scheduling.models import Lesson
from tests.invoices.factories import InvoiceFactory
from tests.invoices.fakes import FakeProvider
from tests.notifications.fakes import BOT_TOKEN, WEBHOOK_SECRET, FakeTelegram
from tests.scheduling.factories import make_lesson

ROLES = ["student", "teacher", "tutor", "parent", "admin"]
PASSWORD = "fuzz-pass-2026"


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, media_root):
    """The demo data at the small scale, in a transaction rolled back at the end of the module: each test runs in a
    savepoint inside it (pytest-django's `db`), so every test starts from the same seeded rows. The requests go
    through Django's WSGI handler in this thread, on this connection; like Django's test client, the handler must
    not close the connection at the end of a request (that would end the transaction)."""
    telegram = FakeTelegram(BOT_TOKEN).start()
    provider = FakeProvider("shop-1", "shop-secret").start()
    try:
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                seed_demo(scale="small", seed=1, password=PASSWORD)  # hashed with the run's hasher (tests/conftest.py)
                users = {role: User.objects.get(email=demo_email(role)) for role in ROLES}
                tokens = {role: AuthToken.objects.create(user=user)[1] for role, user in users.items()}
                known = known_good_requests(users)
                feed_secret = _feed_secret(tokens["student"])  # Django's test client reconnects the signals
                signals.request_started.disconnect(close_old_connections)
                signals.request_finished.disconnect(close_old_connections)
                yield {
                    "users": users,
                    "tokens": tokens,
                    "feed_secret": feed_secret,
                    "known": known,
                    "telegram": telegram,
                    "provider": provider,
                }
            finally:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
    finally:
        telegram.stop()
        provider.stop()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def known_good_requests(users: dict) -> dict[str, dict]:
    """A valid request (the Case's arguments) per operation whose 2xx needs seeded rows that belong together and are
    in the right state, which generated ids and bodies do not find: sent once by the coverage phase as the
    operation's owner (tests/fuzz/test_api_fuzz.py OWNERS), before the generated cases."""

    teacher, tutor = users["teacher"], users["tutor"]
    now = timezone.now()
    lessons = Lesson.objects.filter(teacher=teacher, status="scheduled").order_by("pk")
    future, started = lessons.filter(start__gt=now).first(), lessons.filter(start__lte=now).first()
    if started is None and future is not None:
        # Seeded at 00:00-07:00 UTC no scheduled lesson has begun yet (the demo's school day is 07-19 UTC): one is
        # added yesterday at 03:00 UTC, an hour the demo's grid never uses, so it overlaps nothing.
        yesterday = (now - datetime.timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
        enrollment = Enrollment.objects.filter(
            teacher_id=future.teacher_id, student_id=future.student_id, subject_id=future.subject_id
        ).first()
        started = make_lesson(enrollment, start=yesterday, meeting_url="https://meet.example.test/known-good")
    # The small world has no files and no draft invoice of the tutor: they are added here (rolled back with it).
    material = Material.objects.filter(author=teacher).order_by("pk").first()
    if material is not None and not material.file:
        material.file_name = "known-good.txt"
        material.file.save("known-good.txt", ContentFile(b"A material's file."))
    progress = MaterialProgress.objects.filter(material__author=teacher).order_by("pk").first()
    submission_file = (
        SubmissionFile.objects.filter(attempt__submission__assignment__teacher=teacher).order_by("pk").first()
    )
    attachment = Message.objects.filter(room__participants__user=teacher, deleted_at=None).order_by("pk").first()
    if attachment is not None and not attachment.attachment:
        attachment.attachment_name = "known-good.txt"
        attachment.attachment.save("known-good.txt", ContentFile(b"A chat attachment."))
    message = Message.objects.filter(room__participants__user=teacher).order_by("pk").first()
    published = Assignment.objects.filter(teacher=teacher, status="published").order_by("pk").first()
    invoice = Invoice.objects.filter(tutor=tutor).order_by("pk").first()
    draft = Invoice.objects.filter(tutor=tutor, status="draft").order_by("pk").first()
    if draft is None and invoice is not None:
        draft = InvoiceFactory(
            tutor=tutor,
            student=invoice.student,
            parent=invoice.parent,
            enrollment=invoice.enrollment,
            description="",
            amount="1500.00",
            due_date=now.date() + datetime.timedelta(days=14),
        )
    missing = [
        name
        for name, row in {
            "a scheduled future lesson": future,
            "a scheduled started lesson": started,
            "a material with a file": material,
            "a progress on a material": progress,
            "a submission file": submission_file,
            "a chat attachment": attachment,
            "a chat message": message,
            "a published assignment": published,
            "a draft invoice": draft,
        }.items()
        if row is None
    ]
    assert not missing, f"the seeded world has no {', '.join(missing)} for the known good requests"
    return {
        "GET /api/materials/{id}/file/": {"path_parameters": {"id": material.pk}},
        "POST /api/materials/{id}/progress/reset/": {
            "path_parameters": {"id": progress.material_id},
            "body": {"student": progress.student_id},
        },
        "GET /api/assignments/submissions/{id}/files/{file_id}/": {
            "path_parameters": {"id": submission_file.attempt.submission_id, "file_id": submission_file.pk}
        },
        "GET /api/chat/messages/{id}/attachment/": {"path_parameters": {"id": attachment.pk}},
        "GET /api/chat/rooms/": {},
        "POST /api/chat/rooms/{id}/read/": {
            "path_parameters": {"id": message.room_id},
            "body": {"message_id": message.pk},
        },
        "GET /api/invoices/{id}/history/": {"path_parameters": {"id": invoice.pk}},
        "POST /api/invoices/{id}/send/": {"path_parameters": {"id": draft.pk}},
        "POST /api/assignments/{id}/close/": {"path_parameters": {"id": published.pk}},
        "POST /api/scheduling/lessons/{id}/cancel/": {
            "path_parameters": {"id": future.pk},
            "body": {"reason": "Known good request of the fuzzing."},
        },
        "POST /api/scheduling/lessons/{id}/complete/": {"path_parameters": {"id": started.pk}},
        "POST /api/scheduling/lessons/{id}/no-show/": {"path_parameters": {"id": started.pk}},
    }


def _feed_secret(token: str) -> str:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = client.get("/api/scheduling/calendar/").json()["url"]
    return urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".ics")


@pytest.fixture
def fuzz_env(fuzz_world, db, settings):
    """Everything configured as in production: Telegram and payments against the fakes, readiness with a deadline
    that a loaded test machine cannot miss."""
    settings.TELEGRAM_API_BASE_URL = fuzz_world["telegram"].url
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_BOT_USERNAME = "thebot_test_bot"
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.TELEGRAM_TIMEOUT_SECONDS = 5
    settings.PAYMENT_API_BASE_URL = fuzz_world["provider"].url
    settings.PAYMENT_SHOP_ID = "shop-1"
    settings.PAYMENT_SECRET_KEY = "shop-secret"
    settings.PAYMENT_TIMEOUT_SECONDS = 5
    settings.READINESS_TIMEOUT_SECONDS = 60
    return fuzz_world


class Record:
    """What one fuzzed operation answered one role: cases sent, statuses seen."""

    def __init__(self):
        self.role = ""
        self.label = ""
        self.cases = 0
        self.successes = 0
        self.statuses: dict[int, int] = {}

    def add(self, status: int, own_method: bool = True) -> None:
        """One answer; `own_method` False for the coverage phase's requests with another method than the
        operation's (they count as cases, never as the operation's 2xx)."""
        self.cases += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if own_method and 200 <= status < 300:
            self.successes += 1


@pytest.fixture
def record(request, record_property):
    """The answers of this test, recorded for the per-role table (`fuzz` user property, printed by
    tests/conftest.py at the end of the run)."""
    answers = Record()
    yield answers
    figures = {"role": answers.role, "label": answers.label, "cases": answers.cases, "successes": answers.successes}
    record_property("fuzz", json.dumps({**figures, "statuses": answers.statuses}))
