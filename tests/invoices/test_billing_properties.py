"""Billing, as a property (hypothesis): for any sequence of lessons (completed, no-show, cancelled by the student or
the parent late or early, cancelled by the teacher), rate changes (new rows with a valid_from, the teacher's default
or a student's own) and billing runs over parts of a month, then a run over the whole month:

- every billable lesson with a rate valid on its date is billed, on exactly one line, and nothing else is;
- each line is the lesson's hours times the rate valid on the lesson's date when its run billed it (a later rate leaves
  billed lines alone), so the invoiced sum is that of the billable lessons;
- every invoice's total equals its lines (on PostgreSQL the deferred trigger of 0009 is also made to check, at the
  end of each example), and each parent has one open draft.

Each example runs in a transaction rolled back at its end; the service functions are called directly.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from invoices.services import billing
from scheduling.models import LessonStatus
from tests.invoices.factories import at, cancelled, family, lesson, lesson_rate

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
SLOTS_PER_DAY = 6  # lessons start at 8, 10, ..., 18 o'clock (UTC) and last at most two hours: none overlap
OUTCOMES = ["completed", "no_show", "student_late", "student_early", "parent_late", "parent_early", "teacher"]
BILLED_AS = {
    "completed": LineKind.LESSON,
    "no_show": LineKind.NO_SHOW,
    "student_late": LineKind.LATE_CANCELLATION,
    "parent_late": LineKind.LATE_CANCELLATION,
}
PRICES = st.sampled_from(["500.00", "999.99", "1000.00", "1234.50", "2000.00"])
DAYS = st.integers(min_value=1, max_value=31)


@dataclass(frozen=True)
class NewLesson:
    slot: int
    kid: int
    minutes: int
    outcome: str


@dataclass(frozen=True)
class NewRate:
    valid_from: date
    price: str
    kid: int | None  # a student's own rate, or the teacher's default


@dataclass(frozen=True)
class Run:
    first: int
    last: int


lessons_ = st.builds(
    NewLesson,
    slot=st.integers(min_value=0, max_value=28 * SLOTS_PER_DAY - 1),
    kid=st.integers(min_value=0, max_value=1),
    minutes=st.sampled_from([30, 45, 60, 90, 100, 120]),
    outcome=st.sampled_from(OUTCOMES),
)
rates_ = st.builds(
    NewRate,
    valid_from=st.dates(min_value=date(2026, 9, 20), max_value=date(2026, 10, 31)),
    price=PRICES,
    kid=st.one_of(st.none(), st.integers(min_value=0, max_value=1)),
)
runs_ = st.builds(lambda a, b: Run(min(a, b), max(a, b)), DAYS, DAYS)
steps_ = st.lists(st.one_of(lessons_, rates_, runs_), max_size=24).map(
    # A slot holds at most one lesson (the teacher's lessons do not overlap).
    lambda steps: [s for i, s in enumerate(steps) if not isinstance(s, NewLesson) or s.slot not in _slots(steps[:i])]
)


def _slots(steps) -> set[int]:
    return {s.slot for s in steps if isinstance(s, NewLesson)}


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENT)


class Model:
    """What billing should have done: rates as known so far, lessons, and what each run billed at which amount."""

    def __init__(self, initial: NewRate):
        self.rates: list[NewRate] = [initial]
        self.lessons: dict[int, tuple[NewLesson, date]] = {}  # pk → (drawn lesson, its local date)
        self.billed: dict[int, tuple[str, Decimal]] = {}  # pk → (line kind, amount)

    def price_on(self, day: date, kid: int) -> Decimal | None:
        def valid(rates):  # the latest valid_from on or before the day; among equal ones, the last written
            chosen = None
            for rate in rates:
                if rate.valid_from <= day and (chosen is None or rate.valid_from >= chosen.valid_from):
                    chosen = rate
            return chosen

        rate = valid([r for r in self.rates if r.kid == kid]) or valid([r for r in self.rates if r.kid is None])
        return Decimal(rate.price) if rate else None

    def run(self, first: date, last: date) -> None:
        for pk, (drawn, day) in self.lessons.items():
            if pk in self.billed or drawn.outcome not in BILLED_AS or not first <= day <= last:
                continue
            price = self.price_on(day, drawn.kid)
            if price is not None:
                amount = (_hours(drawn.minutes) * price).quantize(CENT, rounding=ROUND_HALF_UP)
                self.billed[pk] = (BILLED_AS[drawn.outcome], amount)


def _make_lesson(world, drawn: NewLesson):
    start = at(drawn.slot // SLOTS_PER_DAY + 1, 8 + 2 * (drawn.slot % SLOTS_PER_DAY))
    enrollment, kid = world.enrollments[drawn.kid], world.kids[drawn.kid]
    if drawn.outcome == "completed":
        return lesson(enrollment, start, minutes=drawn.minutes)
    if drawn.outcome == "no_show":
        return lesson(enrollment, start, minutes=drawn.minutes, status=LessonStatus.NO_SHOW)
    who, when = drawn.outcome.split("_") if "_" in drawn.outcome else (drawn.outcome, "late")
    by = {"student": kid, "parent": world.parent, "teacher": world.teacher}[who]
    hours_before = {"late": 3, "early": 30}[when]
    return cancelled(enrollment, start, by=by, hours_before=hours_before, minutes=drawn.minutes)


def _check(world, model: Model) -> None:
    lines = list(InvoiceLine.objects.filter(invoice__tutor=world.tutor).values_list("lesson_id", "kind", "amount"))
    billed = [pk for pk, _, _ in lines]
    assert len(billed) == len(set(billed)), "a lesson billed twice"
    assert {pk: (kind, amount) for pk, kind, amount in lines} == model.billed
    total = sum((amount for _, _, amount in lines), Decimal(0))
    assert total == sum((amount for _, amount in model.billed.values()), Decimal(0))
    invoices = Invoice.objects.filter(tutor=world.tutor)
    for invoice in invoices:
        assert invoice.amount == (invoice.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)), invoice
    assert invoices.filter(status=InvoiceStatus.DRAFT).count() == (1 if model.billed else 0)
    assert not invoices.exclude(status=InvoiceStatus.DRAFT).exists()


def test_billing_bills_each_billable_lesson_once_at_its_rate_and_totals_are_their_lines():
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(initial=rates_.filter(lambda r: r.kid is None), steps=steps_)
    def example(initial: NewRate, steps: list):
        with time_machine.travel("2026-11-05 09:00Z", tick=False), transaction.atomic():
            world = family(price=initial.price, valid_from=initial.valid_from)
            model = Model(initial)
            for step in steps:
                if isinstance(step, NewLesson):
                    made = _make_lesson(world, step)
                    model.lessons[made.pk] = (step, timezone.localdate(made.start))
                elif isinstance(step, NewRate):
                    student = None if step.kid is None else world.kids[step.kid]
                    lesson_rate(world.teacher, world.subject, step.price, step.valid_from, student=student)
                    model.rates.append(step)
                else:
                    first, last = date(2026, 10, step.first), date(2026, 10, step.last)
                    billing.billing_run(tutor=world.tutor, period_start=first, period_end=last, by=world.tutor)
                    model.run(first, last)
                    _check(world, model)
            # The whole month (and its edges in any time zone): whatever is billable and priced is billed now.
            first, last = date(2026, 9, 30), date(2026, 11, 1)
            run = billing.billing_run(tutor=world.tutor, period_start=first, period_end=last, by=world.tutor)
            before = len(model.billed)
            model.run(first, last)
            assert run.lines_added == len(model.billed) - before
            _check(world, model)
            unbilled = {pk for pk, (drawn, day) in model.lessons.items() if drawn.outcome in BILLED_AS} - set(
                model.billed
            )
            unpriced = billing.plan_billing(tutor=world.tutor, period_start=first, period_end=last).unpriced
            assert {lesson.pk for lesson in unpriced} == unbilled  # billable but no rate yet: reported, not billed
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # the deferred trigger checks every pending row now
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)

    example()


def test_the_model_prices_like_the_service():
    """The test's model and the service agree on a lesson's price in the plain case (a guard for the model)."""
    model = Model(NewRate(date(2026, 10, 1), "1000.00", None))
    model.rates.append(NewRate(date(2026, 10, 10), "1200.00", 1))
    assert model.price_on(date(2026, 9, 30), 0) is None
    assert model.price_on(date(2026, 10, 10), 0) == Decimal("1000.00")
    assert model.price_on(date(2026, 10, 10), 1) == Decimal("1200.00")
    assert model.price_on(date(2026, 10, 9), 1) == Decimal("1000.00")
    assert _hours(100) == Decimal("1.67")
