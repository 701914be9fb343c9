"""Billing from lessons (services): the policy, rates with history, invoice lines and the sum, billing runs."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum
from django_tasks_db.models import DBTaskResult

from invoices import services
from invoices.errors import InvoiceError
from invoices.models import BillingRun, Invoice, InvoiceLine, InvoiceStatus, LessonRate, LineKind
from invoices.services import billing, lines
from invoices.tasks import billing_monthly_run_job
from scheduling.models import Lesson, LessonStatus
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, link_student
from tests.invoices.factories import OCTOBER, InvoiceFactory, add_line, at, cancelled, family, lesson, lesson_rate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _november():
    """Early November 2026: October's lessons are in the past (no wall-clock dependence)."""
    with time_machine.travel("2026-11-05 09:00Z", tick=False):
        yield


def run(world, **period):
    return billing.billing_run(tutor=world.tutor, by=world.tutor, **(period or OCTOBER))


def drafts_of(world):
    return Invoice.objects.filter(tutor=world.tutor, status=InvoiceStatus.DRAFT)


def assert_totals_are_lines():
    for invoice in Invoice.objects.all():
        total = invoice.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        assert invoice.amount == total, invoice


# --- the policy ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "hours_before", "billed"),
    [
        ("student", 2, LineKind.LATE_CANCELLATION),
        ("parent", 23.9, LineKind.LATE_CANCELLATION),
        ("student", 24, None),
        ("parent", 48, None),
        ("teacher", 1, None),
        ("tutor", 1, None),
        ("admin", 1, None),
    ],
)
def test_a_cancellation_is_billed_only_late_and_by_the_students_side(who, hours_before, billed):
    world = family(children=1)
    by = {
        "student": world.kids[0],
        "parent": world.parent,
        "teacher": world.teacher,
        "tutor": world.tutor,
        "admin": AdminFactory(),
    }[who]
    late = cancelled(world.enrollments[0], at(10), by=by, hours_before=hours_before)
    assert billing.charge_kind(late, parent_id=world.parent.pk) == billed


@pytest.mark.parametrize(
    ("status", "billed"),
    [
        (LessonStatus.COMPLETED, LineKind.LESSON),
        (LessonStatus.NO_SHOW, LineKind.NO_SHOW),
        (LessonStatus.SCHEDULED, None),
    ],
)
def test_completed_lessons_and_no_shows_are_billed(status, billed):
    world = family(children=1)
    assert billing.charge_kind(lesson(world.enrollments[0], at(10), status=status), parent_id=None) == billed


def test_the_notice_period_is_a_setting(settings):
    settings.BILLING_CANCELLATION_NOTICE_HOURS = 48
    world = family(children=1)
    late = cancelled(world.enrollments[0], at(10), by=world.kids[0], hours_before=30)
    assert billing.charge_kind(late, parent_id=world.parent.pk) == LineKind.LATE_CANCELLATION


# --- rates --------------------------------------------------------------------------------------------------------


def test_the_rate_of_a_lesson_is_the_one_valid_on_its_date_and_a_students_own_wins():
    world = family()
    kid_a, kid_b = world.enrollments
    lesson_rate(world.teacher, world.subject, "1200", date(2026, 10, 15))
    lesson_rate(world.teacher, world.subject, "800", date(2026, 10, 1), student=world.kids[1])
    before, after, own = lesson(kid_a, at(10)), lesson(kid_a, at(20), minutes=90), lesson(kid_b, at(20))
    book = billing.RateBook([before, after, own])
    assert book.rate_for(before).price_per_hour == Decimal("1000.00")
    assert book.rate_for(after).price_per_hour == Decimal("1200.00")
    assert book.rate_for(own).price_per_hour == Decimal("800.00")
    run(world)
    amounts = dict(InvoiceLine.objects.values_list("lesson_id", "amount"))
    assert amounts == {before.pk: Decimal("1000.00"), after.pk: Decimal("1800.00"), own.pk: Decimal("800.00")}


def test_rates_are_never_changed_in_place_and_a_new_rate_leaves_billed_lines_alone():
    world = family(children=1)
    billed = lesson(world.enrollments[0], at(10))
    run(world)
    world.rate.price_per_hour = Decimal("5000")
    with pytest.raises(ValueError, match="never changed"):
        world.rate.save()
    billing.lesson_rate_create(
        by=AdminFactory(),
        teacher=world.teacher,
        subject=world.subject,
        price_per_hour=Decimal("5000"),
        valid_from=date(2026, 1, 1),
    )
    run(world)
    assert InvoiceLine.objects.get(lesson=billed).amount == Decimal("1000.00")
    assert LessonRate.objects.filter(teacher=world.teacher).count() == 2


def test_a_lesson_without_a_rate_is_reported_and_not_billed():
    world = family(children=1)
    LessonRate.objects.all().delete()
    unpriced = lesson(world.enrollments[0], at(10))
    preview = billing.billing_preview(tutor=world.tutor, **OCTOBER)
    assert preview["unpriced_lessons"] == [unpriced.pk] and preview["invoices"] == []
    run(world)
    assert not Invoice.objects.exists()


# --- billing runs -------------------------------------------------------------------------------------------------


def test_one_draft_per_parent_covers_all_children_and_shows_why_each_line():
    world = family()
    a, b = world.enrollments
    lesson(a, at(6))
    lesson(b, at(7), minutes=90)
    lesson(a, at(8), status=LessonStatus.NO_SHOW)
    cancelled(b, at(9), by=world.kids[1], hours_before=3)
    cancelled(a, at(13), by=world.teacher, hours_before=1)
    lesson(a, at(14), status=LessonStatus.SCHEDULED)
    lesson(a, at(3, month=11))  # outside the period
    other = family(tutor=world.tutor, children=1)
    lesson(other.enrollments[0], at(6))
    result = run(world)
    assert Invoice.objects.count() == 2 and result.lines_added == 5
    invoice = Invoice.objects.get(parent=world.parent)
    assert invoice.status == InvoiceStatus.DRAFT and invoice.billing_run == result
    kinds = list(invoice.lines.values_list("kind", "amount"))
    assert kinds == [
        (LineKind.LESSON, Decimal("1000.00")),
        (LineKind.LESSON, Decimal("1500.00")),
        (LineKind.NO_SHOW, Decimal("1000.00")),
        (LineKind.LATE_CANCELLATION, Decimal("1000.00")),
    ]
    assert invoice.amount == Decimal("4500.00")
    assert "late cancellation" in invoice.lines.get(kind=LineKind.LATE_CANCELLATION).description
    assert sorted(set(invoice.lines.values_list("lesson__student", flat=True))) == sorted(k.pk for k in world.kids)
    assert_totals_are_lines()


def test_preview_writes_nothing_and_matches_the_run():
    world = family()
    lesson(world.enrollments[0], at(6))
    lesson(world.enrollments[1], at(7))
    preview = billing.billing_preview(tutor=world.tutor, **OCTOBER)
    assert not Invoice.objects.exists() and not BillingRun.objects.exists()
    [planned] = preview["invoices"]
    assert planned["total"] == "2000.00" and len(planned["lines"]) == 2
    run(world)
    assert Invoice.objects.get().amount == Decimal(planned["total"])


def test_running_twice_adds_nothing_and_a_later_lesson_joins_the_open_draft():
    world = family(children=1)
    lesson(world.enrollments[0], at(6))
    run(world)
    second = run(world)
    assert second.lines_added == 0 and InvoiceLine.objects.count() == 1
    lesson(world.enrollments[0], at(20))
    run(world)
    invoice = Invoice.objects.get()
    assert invoice.lines.count() == 2 and invoice.amount == Decimal("2000.00")


def test_a_lesson_corrected_after_drafting_updates_the_draft():
    world = family(children=1)
    changed = lesson(world.enrollments[0], at(6))
    gone = lesson(world.enrollments[0], at(7))
    run(world)
    with time_machine.travel("2026-11-06 09:00Z", tick=False):  # an admin's correction, a day later
        changed.end = changed.start + (changed.end - changed.start) * 2
        changed.save()
        gone.status, gone.cancelled_by, gone.cancelled_at = LessonStatus.CANCELLED, world.teacher, gone.start
        gone.save()
        result = run(world)
    assert result.lines_changed == 2
    invoice = Invoice.objects.get()
    assert list(invoice.lines.values_list("lesson", "amount")) == [(changed.pk, Decimal("2000.00"))]
    assert invoice.amount == Decimal("2000.00")


def test_a_draft_left_without_lines_is_cancelled_at_zero():
    world = family(children=1)
    gone = lesson(world.enrollments[0], at(7))
    run(world)
    with time_machine.travel("2026-11-06 09:00Z", tick=False):
        Lesson.objects.filter(pk=gone.pk).update(status=LessonStatus.CANCELLED, cancelled_by=world.teacher)
        Lesson.objects.get(pk=gone.pk).save()
        run(world)
    invoice = Invoice.objects.get()
    assert invoice.status == InvoiceStatus.CANCELLED and invoice.amount == 0


def test_a_lesson_corrected_after_sending_gets_a_credit_line_on_the_next_draft():
    world = family(children=1)
    wrong = lesson(world.enrollments[0], at(6))
    run(world)
    sent = Invoice.objects.get()
    services.invoice_send(invoice_id=sent.pk, by=world.tutor)
    with time_machine.travel("2026-11-06 09:00Z", tick=False):
        wrong.status, wrong.cancelled_by, wrong.cancelled_at = LessonStatus.CANCELLED, world.teacher, wrong.start
        wrong.save()
        run(world)  # nothing else to bill: the credit waits (a draft must stay above zero)
        assert Invoice.objects.count() == 1
        lesson(world.enrollments[0], at(20), minutes=120)
        run(world)
    sent.refresh_from_db()
    assert sent.status == InvoiceStatus.SENT and sent.amount == Decimal("1000.00")
    draft = drafts_of(world).get()
    credit = draft.lines.get(kind=LineKind.CREDIT)
    assert credit.amount == Decimal("-1000.00") and credit.credits.lesson == wrong
    assert draft.amount == Decimal("1000.00")
    run(world)
    assert InvoiceLine.objects.filter(kind=LineKind.CREDIT).count() == 1  # a line is credited once
    assert_totals_are_lines()


def test_a_cancelled_invoice_releases_its_lessons_for_the_next_run():
    world = family(children=1)
    billed = lesson(world.enrollments[0], at(6))
    run(world)
    first = Invoice.objects.get()
    services.invoice_cancel(invoice_id=first.pk, by=world.tutor, reason="redo")
    run(world)
    assert drafts_of(world).get().lines.get().lesson == billed
    assert first.lines.get().lesson is None


def test_a_child_without_a_parent_or_of_another_tutor_is_not_billed():
    world = family(children=1)
    orphan = link_student(StudentFactory(), tutor=world.tutor)
    EnrollmentFactory = type(world.enrollments[0])
    lone = EnrollmentFactory.objects.create(student=orphan, teacher=world.teacher, subject=world.subject)
    lesson(lone, at(6))
    elsewhere = family(children=1)
    lesson(elsewhere.enrollments[0], at(6))
    run(world)
    assert not Invoice.objects.exists()


def test_billing_runs_are_for_tutors_over_a_sane_period():
    world = family(children=1)
    with pytest.raises(InvoiceError) as error:
        billing.billing_run(tutor=world.parent, by=world.parent, **OCTOBER)
    assert error.value.code == "not_a_tutor"
    with pytest.raises(InvoiceError) as error:
        billing.billing_run(tutor=world.tutor, by=None, period_start=date(2026, 10, 2), period_end=date(2026, 10, 1))
    assert error.value.code == "invalid_period"
    assert not BillingRun.objects.exists()


def test_the_monthly_job_is_off_by_default_and_bills_last_month_on_the_first(settings):
    world = family(children=1)
    lesson(world.enrollments[0], at(6))
    with time_machine.travel("2026-11-01 06:00Z", tick=False):
        assert billing_monthly_run_job.call() == 0
        settings.BILLING_MONTHLY_RUN = True
        assert billing_monthly_run_job.call() >= 1
    run_ = BillingRun.objects.get(tutor=world.tutor)
    assert (run_.period_start, run_.period_end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert Invoice.objects.get().status == InvoiceStatus.DRAFT
    with time_machine.travel("2026-11-02 06:00Z", tick=False):
        assert billing_monthly_run_job.call() == 0


@pytest.mark.django_db(transaction=True)
def test_the_tutor_is_told_the_run_is_ready(telegram_settings):
    world = family(children=1)
    world.tutor.telegram_chat_id = 4242
    world.tutor.save()
    lesson(world.enrollments[0], at(6))
    run(world)

    def told() -> list[str]:
        return [str(job.args_kwargs) for job in DBTaskResult.objects.all() if "ready to review" in str(job.args_kwargs)]

    # By email only: the default channel of this event (notifications/events.py), Telegram linked or not.
    assert len(told()) == 1 and world.tutor.email in told()[0] and "4242" not in told()[0]
    run(world)  # nothing new: nobody is told again
    assert len(told()) == 1


# --- lines --------------------------------------------------------------------------------------------------------


def test_an_invoice_typed_by_hand_is_one_manual_line_and_its_amount_edits_that_line():
    world = family(children=1)
    invoice = services.invoice_create(
        tutor=world.tutor, student=world.kids[0], amount=Decimal("700"), due_date=date(2026, 11, 30)
    )
    line = invoice.lines.get()
    assert (line.kind, line.amount) == (LineKind.MANUAL, Decimal("700"))
    services.invoice_update(invoice_id=invoice.pk, by=world.tutor, data={"amount": Decimal("900")})
    invoice.refresh_from_db()
    assert invoice.amount == invoice.lines.get().amount == Decimal("900.00")
    lines.invoice_line_add(invoice_id=invoice.pk, by=world.tutor, description="Book", unit_price=Decimal("100"))
    with pytest.raises(InvoiceError) as error:
        services.invoice_update(invoice_id=invoice.pk, by=world.tutor, data={"amount": Decimal("5")})
    assert error.value.code == "has_lines"
    assert_totals_are_lines()


def test_manual_lines_keep_the_sum_and_discounts_stay_within_limits(settings):
    settings.BILLING_MAX_DISCOUNT_PERCENT = 50
    invoice = InvoiceFactory(amount=Decimal("1000.00"))
    tutor = invoice.tutor
    book = lines.invoice_line_add(
        invoice_id=invoice.pk, by=tutor, description="Books", quantity=Decimal(2), unit_price=Decimal("150.25")
    )
    assert book.amount == Decimal("300.50")
    lines.invoice_line_add(invoice_id=invoice.pk, by=tutor, description="Discount", unit_price=Decimal("-650.25"))
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("650.25")
    with pytest.raises(InvoiceError) as error:
        lines.invoice_line_add(invoice_id=invoice.pk, by=tutor, description="More", unit_price=Decimal("-0.01"))
    assert error.value.code == "discount_too_large"
    with pytest.raises(InvoiceError) as error:  # one book less: the discount would be 56 %
        lines.invoice_line_update(invoice_id=invoice.pk, line_id=book.pk, by=tutor, data={"quantity": Decimal(1)})
    assert error.value.code == "discount_too_large"
    discount = invoice.lines.get(description="Discount")
    lines.invoice_line_update(
        invoice_id=invoice.pk, line_id=discount.pk, by=tutor, data={"unit_price": Decimal("-500")}
    )
    lines.invoice_line_remove(invoice_id=invoice.pk, line_id=book.pk, by=tutor)
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("500.00")
    with pytest.raises(InvoiceError) as error:
        lines.invoice_line_update(
            invoice_id=invoice.pk, line_id=discount.pk, by=tutor, data={"unit_price": Decimal("-1000")}
        )
    assert error.value.code == "total_not_positive"
    assert invoice.lines.count() == 2
    assert_totals_are_lines()


def test_lines_change_on_drafts_only_and_lesson_lines_follow_their_lessons():
    world = family(children=1)
    lesson(world.enrollments[0], at(6))
    run(world)
    invoice = Invoice.objects.get()
    lesson_line = invoice.lines.get()
    with pytest.raises(InvoiceError) as error:
        lines.invoice_line_remove(invoice_id=invoice.pk, line_id=lesson_line.pk, by=world.tutor)
    assert error.value.code == "line_not_editable"
    with pytest.raises(InvoiceError) as error:
        lines.invoice_line_add(invoice_id=invoice.pk, by=ParentFactory(), description="x", unit_price=Decimal(1))
    assert error.value.code == "not_allowed"
    services.invoice_send(invoice_id=invoice.pk, by=world.tutor)
    with pytest.raises(InvoiceError) as error:
        lines.invoice_line_add(invoice_id=invoice.pk, by=world.tutor, description="x", unit_price=Decimal(1))
    assert error.value.code == "not_editable"


def test_a_lesson_is_billed_by_one_line_at_most_in_the_database():
    from django.db import IntegrityError, transaction

    world = family(children=1)
    billed = lesson(world.enrollments[0], at(6))
    run(world)
    invoice = Invoice.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        add_line(invoice, kind=LineKind.LESSON, description="again", unit_price=1, amount=1, lesson=billed)


def test_the_billing_state_of_lessons():
    world = family(children=1)
    billed = lesson(world.enrollments[0], at(6))
    billable = lesson(world.enrollments[0], at(7))
    free = cancelled(world.enrollments[0], at(8), by=world.teacher, hours_before=1)
    billing.billing_run(tutor=world.tutor, by=None, period_start=date(2026, 10, 6), period_end=date(2026, 10, 6))
    states = {
        lesson.pk: billing.lesson_billing_state(lesson)
        for lesson in Lesson.objects.select_related("student__student_profile", "invoice_line__invoice")
    }
    line = InvoiceLine.objects.get()
    assert states[billed.pk] == {"state": "invoiced", "invoice": line.invoice_id, "line": line.pk, "kind": "lesson"}
    assert states[billable.pk]["state"] == "billable" and states[free.pk]["state"] == "not_billable"
