"""A valid request body per write operation, built for family A's objects, so that the role table and the mass
assignment sweep meet each operation's permission and object checks rather than its validation. An operation not
listed here is sent `{}` (actions without a body)."""

import itertools
from datetime import timedelta

from django.utils import timezone

from tests.files.samples import pdf


def _soon(hours: int) -> str:
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0).isoformat()


_RESET_ASKS = itertools.count(1)

BODIES = {
    "POST /api/admin/users/": lambda w: {"email": "new.user@example.test", "role": "student", "first_name": "New"},
    "PATCH /api/admin/users/{id}/": lambda w: {"first_name": "Renamed"},
    "POST /api/assignments/": lambda w: {
        "title": "New homework",
        "due_at": _soon(24 * 9),
        "max_score": "10",
        "subject": w.subject.pk,
        "assigned_to": [w.a.student.pk],
    },
    "PATCH /api/assignments/{id}/": lambda w: {"title": "Renamed homework"},
    "POST /api/assignments/{id}/attachments/": lambda w: ({"file": pdf("sheet.pdf")}, "multipart"),
    "POST /api/assignments/{id}/submissions/": lambda w: ({"text": "Second answer"}, "multipart"),
    "POST /api/assignments/submissions/{id}/grade/": lambda w: {"score": "7", "feedback": "Good"},
    "POST /api/assignments/submissions/{id}/return/": lambda w: {"feedback": "Try again"},
    "POST /api/auth/login/": lambda w: {"email": "nobody@example.test", "password": "wrong-password-1"},
    # A new address per call: each address may ask a few times per window only (PASSWORD_RESET_PER_EMAIL).
    "POST /api/auth/password-reset/": lambda w: {"email": f"nobody-{next(_RESET_ASKS)}@example.test"},
    "POST /api/auth/password-reset/confirm/": lambda w: {"uid": "MQ", "token": "abc-123", "new_password": "x" * 14},
    "PATCH /api/chat/messages/{id}/": lambda w: {"text": "edited"},
    "POST /api/chat/rooms/": lambda w: {"kind": "group", "name": "Study group", "users": [w.a.student.pk]},
    "POST /api/chat/rooms/{id}/messages/": lambda w: {"text": "hello again", "client_id": "probe-1"},
    "POST /api/chat/rooms/{id}/read/": lambda w: {"message_id": w.a.message.pk},
    "POST /api/invoices/": lambda w: {"student": w.a.student.pk, "amount": "100.00", "due_date": "2099-01-01"},
    "PATCH /api/invoices/{id}/": lambda w: {"description": "Renamed"},
    "POST /api/invoices/{id}/lines/": lambda w: {"description": "Books", "unit_price": "10.00"},
    "PATCH /api/invoices/{id}/lines/{line_id}/": lambda w: {"description": "Renamed"},
    "POST /api/billing/rates/": lambda w: {
        "teacher": w.a.teacher.pk,
        "subject": w.subject.pk,
        "price_per_hour": "1000.00",
        "valid_from": "2026-01-01",
    },
    "POST /api/billing/pay-rates/": lambda w: {
        "teacher": w.a.teacher.pk,
        "price_per_hour": "500.00",
        "valid_from": "2026-01-01",
    },
    "POST /api/billing/preview/": lambda w: {
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "tutor": w.a.tutor.pk,
    },
    "POST /api/billing/runs/": lambda w: {
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "tutor": w.a.tutor.pk,
    },
    "POST /api/invoices/{id}/cancel/": lambda w: {"reason": "mistake"},
    "POST /api/materials/": lambda w: {"title": "New material", "subject": w.subject.pk, "content": "text"},
    "PATCH /api/materials/{id}/": lambda w: {"title": "Renamed material"},
    "PUT /api/materials/{id}/progress/": lambda w: {"percent": 50},
    "POST /api/materials/{id}/progress/reset/": lambda w: {"student": w.a.student.pk},
    "POST /api/materials/enrollments/": lambda w: {
        "student": w.a.student.pk,
        "subject": w.other_subject.pk,
        "teacher": w.a.teacher.pk,
    },
    "PATCH /api/materials/enrollments/{id}/": lambda w: {"is_active": False},
    "POST /api/materials/subjects/": lambda w: {"name": "Astronomy"},
    "PATCH /api/materials/subjects/{id}/": lambda w: {"description": "Renamed"},
    "PATCH /api/profile/me/": lambda w: {"first_name": "Renamed"},
    "POST /api/notifications/unsubscribe/": lambda w: {"token": "not-a-signed-token"},
    "PUT /api/profile/me/notifications/": lambda w: {"preferences": [{"event": "invoice_sent", "email": False}]},
    "POST /api/profile/me/password/": lambda w: {"old_password": "wrong-password-1", "new_password": "x" * 14},
    "POST /api/scheduling/lessons/": lambda w: {
        "student": w.a.student.pk,
        "subject": w.subject.pk,
        "teacher": w.a.teacher.pk,
        "start": _soon(24 * 5),
        "end": _soon(24 * 5 + 1),
    },
    "PATCH /api/scheduling/lessons/{id}/": lambda w: {"topic": "Renamed"},
    "POST /api/scheduling/lessons/{id}/cancel/": lambda w: {"reason": "ill"},
}


def body_for(key: str, world):
    """(body, format) of an operation for family A's objects."""
    make = BODIES.get(key)
    if make is None:
        return {}, "json"
    built = make(world)
    return built if isinstance(built, tuple) else (built, "json")
