"""Publishing an assignment tells each receiving student through notifications (the Telegram fake and the SMTP
server on 127.0.0.1, run by the worker): as their preferences allow, in their language and time zone, at most once
per assignment, student and channel."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import User
from assignments import notices, services
from assignments.models import AssignmentStatus
from notifications.models import NotificationPreference
from tests.assignments.factories import class_of
from tests.notifications.smtp import text_of

DUE = datetime(2031, 3, 4, 15, 30, tzinfo=ZoneInfo("UTC"))


def _run_worker():
    call_command("run_worker", batch=True, no_scheduler=True)


@pytest.mark.django_db(transaction=True)  # real commits: the notices go out after them, the worker runs its jobs
def test_publishing_tells_each_student_once_as_their_preferences_allow(smtp_server, fake_telegram):
    teacher, subject, (linked, opted_out, russian) = class_of(3)
    User.objects.filter(pk=linked.pk).update(telegram_chat_id=3001, timezone="Asia/Tokyo")
    User.objects.filter(pk=russian.pk).update(language="ru")
    NotificationPreference.objects.create(user=opted_out, event="assignment_published", telegram=True, email=False)
    assignment = services.assignment_create(
        teacher=teacher, subject=subject, title="Vectors", due_at=DUE, max_score=Decimal(10)
    )
    _run_worker()
    assert smtp_server.messages == [] and fake_telegram.sent == []  # a draft tells nobody

    services.assignment_publish(assignment=assignment, by=teacher)
    assert smtp_server.messages == []  # never on the request path: queued, sent by the worker
    _run_worker()

    (mail,) = smtp_server.to(linked.email)
    assert mail["Subject"] == "New assignment"
    assert f"New assignment in {subject.name}: Vectors" in text_of(mail)
    assert "05 Mar at 00:30 (Asia/Tokyo)" in text_of(mail)  # 15:30 UTC on the 4th is 00:30 on the 5th in Tokyo
    (message,) = fake_telegram.sent
    assert message["chat_id"] == 3001 and "Vectors" in message["text"]
    assert smtp_server.to(opted_out.email) == []  # email off for this event, no Telegram linked
    (mail,) = smtp_server.to(russian.email)
    assert mail["Subject"] == "Новое задание"
    assert f"Новое задание по предмету {subject.name}: Vectors" in text_of(mail)

    # The after-commit hook running again, and re-opening the assignment, send nothing more.
    notices.assignment_published_notify(assignment, [linked.pk, opted_out.pk, russian.pk])
    services.assignment_close(assignment=assignment, by=teacher)
    services.assignment_publish(assignment=assignment, by=teacher)
    _run_worker()
    assert len(smtp_server.messages) == 2 and len(fake_telegram.sent) == 1
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PUBLISHED


@pytest.mark.django_db(transaction=True)
def test_published_at_once_tells_only_the_chosen_students(smtp_server):
    teacher, subject, (chosen, _other) = class_of(2)
    services.assignment_create(
        teacher=teacher,
        subject=subject,
        title="Essay",
        due_at=DUE,
        max_score=Decimal(10),
        students=[chosen],
        publish=True,
    )
    _run_worker()
    assert [recipients for _, recipients, _ in smtp_server.messages] == [[chosen.email]]
