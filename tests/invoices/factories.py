"""Invoices ready to bill: a tutor, their student and the student's parent, linked as in production; and the
builders of billing tests: a tutor's family (one parent, two children, a teacher and a subject), rates, lessons."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.db import transaction
from django.utils import timezone

from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LessonRate, LineKind
from invoices.services import invoice_send
from scheduling.models import Lesson, LessonStatus
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, TutorFactory, link_student
from tests.materials.factories import EnrollmentFactory, SubjectFactory
from tests.scheduling.factories import make_lesson


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A draft invoice; the student is linked to the tutor and the parent."""

    class Meta:
        model = Invoice

    tutor = factory.SubFactory(TutorFactory)
    parent = factory.SubFactory(ParentFactory)
    student = factory.LazyAttribute(lambda o: link_student(StudentFactory(), tutor=o.tutor, parent=o.parent))
    amount = Decimal("1500.00")
    currency = "RUB"
    description = factory.Sequence(lambda n: f"Lessons, week {n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    status = InvoiceStatus.DRAFT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As invoice_create does: the amount is one manual line, in one transaction (on PostgreSQL its commit checks
        # that the amount is the sum of the lines).
        with transaction.atomic():
            invoice = super()._create(model_class, *args, **kwargs)
            InvoiceLine.objects.create(
                invoice=invoice,
                kind=LineKind.MANUAL,
                description=invoice.description[:500] or "Tutoring",
                unit_price=invoice.amount,
                amount=invoice.amount,
            )
        return invoice


def sent_invoice(**kwargs) -> Invoice:
    invoice = InvoiceFactory(**kwargs)
    return invoice_send(invoice_id=invoice.pk, by=invoice.tutor)


def make_past_due(invoice: Invoice, days: int = 1) -> Invoice:
    """Move the due date into the past (as time passing would), without touching the status."""
    Invoice.objects.filter(pk=invoice.pk).update(due_date=timezone.localdate() - timedelta(days=days))
    invoice.refresh_from_db()
    return invoice


# --- billing ---------------------------------------------------------------------------------------------------


def family(*, tutor=None, children: int = 2, price: str = "1000.00", valid_from: date = date(2026, 1, 1)):
    tutor = tutor or TutorFactory()
    parent = ParentFactory()
    teacher = TeacherFactory()
    subject = SubjectFactory()
    kids = [link_student(StudentFactory(), tutor=tutor, parent=parent) for _ in range(children)]
    enrollments = [EnrollmentFactory(student=kid, teacher=teacher, subject=subject) for kid in kids]
    rate = lesson_rate(teacher, subject, price, valid_from)
    return SimpleNamespace(
        tutor=tutor, parent=parent, teacher=teacher, subject=subject, kids=kids, enrollments=enrollments, rate=rate
    )


def at(day: int, hour: int = 15, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def lesson(enrollment, start: datetime, *, minutes: int = 60, status=LessonStatus.COMPLETED, **fields) -> Lesson:
    return make_lesson(enrollment, start=start, minutes=minutes, status=status, **fields)


def lesson_rate(teacher, subject, price, valid_from: date, *, student=None) -> LessonRate:
    return LessonRate.objects.create(
        teacher=teacher,
        subject=subject,
        student=student,
        price_per_hour=Decimal(price),
        currency="RUB",
        valid_from=valid_from,
    )


def add_line(invoice: Invoice, **fields) -> InvoiceLine:
    """A line written straight to the database (bypassing the services: for the database's own checks)."""
    return InvoiceLine.objects.create(invoice=invoice, **fields)


def cancelled(enrollment, start: datetime, *, by, hours_before: float, **fields) -> Lesson:
    return lesson(
        enrollment,
        start,
        status=LessonStatus.CANCELLED,
        cancelled_by=by,
        cancelled_at=start - timedelta(hours=hours_before),
        **fields,
    )


OCTOBER = {"period_start": date(2026, 10, 1), "period_end": date(2026, 10, 31)}
