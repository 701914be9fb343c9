"""Billing from lessons: the policy (what a lesson costs, and why), rates with their history, and billing runs.

The policy (docs/api.md "Billing"): a completed lesson and a no-show are billed; a cancellation is billed only when
the student or the student's parent cancelled less than BILLING_CANCELLATION_NOTICE_HOURS before the start ("late
cancellation"); a cancellation by the teacher, the tutor or an admin never is. A lesson is priced at the lesson rate
valid on its date (the student's own rate for that teacher and subject if one is valid, else the teacher's default
for the subject), per hour of its duration.

A billing run of a tutor over a period writes, under a lock on the tutor's row (two runs at once: the second waits,
then finds everything billed), one draft per parent and currency covering all of that parent's children among the
tutor's students (added to the parent's open draft from an earlier run if there is one), from billable lessons of
the period not yet invoiced. Lessons billed before and changed since (an admin's correction) are reconciled: on a
draft the line follows the lesson (or goes; a draft left empty is cancelled at 0); on an invoice already sent, a
credit line on the parent's next draft takes back the difference. Sending stays explicit.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Role, StudentProfile, User
from core.updating import model_update
from invoices.errors import InvoiceError, InvoiceErrorCode
from invoices.locks import invoices_for_update
from invoices.models import BillingRun, Invoice, InvoiceLine, InvoiceStatus, LessonRate, LineKind, PayRate
from invoices.services.lifecycle import apply_transition
from invoices.services.lines import CENT, line_amount, recompute
from notifications.services import notifications_enabled, notify
from scheduling.models import Lesson, LessonStatus

logger = logging.getLogger("thebot.invoices")

MAX_PERIOD_DAYS = 366
REASONS = {
    LineKind.LESSON: "lesson",
    LineKind.NO_SHOW: "no-show",
    LineKind.LATE_CANCELLATION: "late cancellation",
}


class BillingState:
    NOT_BILLABLE = "not_billable"
    BILLABLE = "billable"
    INVOICED = "invoiced"
    PAID_OUT = "paid_out"  # with payouts (a later change)


# --- the policy --------------------------------------------------------------------------------------------------


def charge_kind(lesson: Lesson, *, parent_id: int | None) -> str | None:
    """The line kind a lesson is billed as, or None when it is not billable."""
    if lesson.status == LessonStatus.COMPLETED:
        return LineKind.LESSON
    if lesson.status == LessonStatus.NO_SHOW:
        return LineKind.NO_SHOW
    if lesson.status != LessonStatus.CANCELLED or lesson.cancelled_at is None or lesson.cancelled_by_id is None:
        return None
    students_side = lesson.cancelled_by_id == lesson.student_id or (
        parent_id is not None and lesson.cancelled_by_id == parent_id
    )
    notice = timedelta(hours=settings.BILLING_CANCELLATION_NOTICE_HOURS)
    if students_side and lesson.start - lesson.cancelled_at < notice:
        return LineKind.LATE_CANCELLATION
    return None


def hours_of(lesson: Lesson) -> Decimal:
    return (Decimal((lesson.end - lesson.start).total_seconds()) / 3600).quantize(CENT)


def lesson_day(lesson: Lesson) -> date:
    return timezone.localdate(lesson.start)


class RateBook:
    """The lesson rates of some (teacher, subject) pairs, loaded in one query, answering "the rate on a day"."""

    def __init__(self, lessons: list[Lesson]):
        teachers = {lesson.teacher_id for lesson in lessons}
        subjects = {lesson.subject_id for lesson in lessons}
        self._rates: dict[tuple, list[LessonRate]] = defaultdict(list)
        if teachers:
            rows = LessonRate.objects.filter(teacher_id__in=teachers, subject_id__in=subjects).order_by(
                "valid_from", "id"
            )
            for rate in rows:
                self._rates[(rate.teacher_id, rate.subject_id, rate.student_id)].append(rate)

    def _valid(self, key: tuple, day: date) -> LessonRate | None:
        valid = None
        for rate in self._rates.get(key, ()):  # ascending: the last one on or before the day wins
            if rate.valid_from <= day:
                valid = rate
        return valid

    def rate_for(self, lesson: Lesson) -> LessonRate | None:
        day = lesson_day(lesson)
        own = self._valid((lesson.teacher_id, lesson.subject_id, lesson.student_id), day)
        return own or self._valid((lesson.teacher_id, lesson.subject_id, None), day)


def describe(lesson: Lesson, kind: str) -> str:
    start = timezone.localtime(lesson.start)
    text = f"{start:%Y-%m-%d %H:%M} {lesson.subject.name}, {lesson.student.full_name} ({hours_of(lesson)} h)"
    if kind != LineKind.LESSON:
        text += f": {REASONS[kind]}"
    return text[:500]


# --- rates -------------------------------------------------------------------------------------------------------


def _check_rate_people(teacher: User, student: User | None) -> None:
    if teacher.role != Role.TEACHER:
        raise InvoiceError("Not a teacher.", fields={"teacher": ["Not a teacher."]})
    if student is not None and student.role != Role.STUDENT:
        raise InvoiceError("Not a student.", fields={"student": ["Not a student."]})


@transaction.atomic
def lesson_rate_create(*, by: User, teacher: User, subject, price_per_hour: Decimal, valid_from: date, student=None):
    """A new lesson rate (a change of rate is a new row: history is kept, billed lines keep their prices)."""
    _check_rate_people(teacher, student)
    return LessonRate.objects.create(
        teacher=teacher,
        subject=subject,
        student=student,
        price_per_hour=price_per_hour,
        currency=settings.DEFAULT_CURRENCY,
        valid_from=valid_from,
        created_by=by,
    )


@transaction.atomic
def pay_rate_create(*, by: User, teacher: User, price_per_hour: Decimal, valid_from: date, subject=None):
    _check_rate_people(teacher, None)
    return PayRate.objects.create(
        teacher=teacher,
        subject=subject,
        price_per_hour=price_per_hour,
        currency=settings.DEFAULT_CURRENCY,
        valid_from=valid_from,
        created_by=by,
    )


# --- billing runs ------------------------------------------------------------------------------------------------


@dataclass
class PlannedLine:
    parent_id: int
    student_id: int
    currency: str
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    lesson: Lesson | None = None
    credits: InvoiceLine | None = None


@dataclass
class Plan:
    tutor: User
    period_start: date
    period_end: date
    new_lines: list[PlannedLine] = field(default_factory=list)
    credits: list[PlannedLine] = field(default_factory=list)
    draft_updates: list[tuple[InvoiceLine, dict | None]] = field(default_factory=list)  # None: remove the line
    unpriced: list[Lesson] = field(default_factory=list)
    drafts: dict[tuple[int, str], Invoice] = field(default_factory=dict)  # open drafts by (parent, currency)
    parents: dict[int, User] = field(default_factory=dict)


def check_period(period_start: date, period_end: date) -> None:
    if period_end < period_start or (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise InvoiceError(
            "The period ends before it starts or is longer than a year.",
            InvoiceErrorCode.INVALID_PERIOD,
            fields={"period_end": ["Must be on or after period_start, within a year."]},
        )


def check_tutor(tutor: User) -> None:
    if tutor.role != Role.TUTOR:
        raise InvoiceError(
            "Billing runs are per tutor.", InvoiceErrorCode.NOT_A_TUTOR, fields={"tutor": ["Not a tutor."]}
        )


def _bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(period_start, time.min, tzinfo=tz),
        datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _lessons(queryset: QuerySet[Lesson]) -> QuerySet[Lesson]:
    return queryset.select_related("subject", "student", "student__student_profile")


def plan_billing(*, tutor: User, period_start: date, period_end: date) -> Plan:
    """What a run would write now (reads only; a fixed number of queries)."""
    check_tutor(tutor)
    check_period(period_start, period_end)
    plan = Plan(tutor=tutor, period_start=period_start, period_end=period_end)
    profiles = StudentProfile.objects.filter(tutor=tutor, parent__isnull=False)
    parent_of = dict(profiles.values_list("user_id", "parent_id"))
    start, end = _bounds(period_start, period_end)
    fresh = list(
        _lessons(Lesson.objects.filter(student_id__in=list(parent_of), start__gte=start, start__lt=end))
        .filter(
            invoice_line__isnull=True, status__in=[LessonStatus.COMPLETED, LessonStatus.NO_SHOW, LessonStatus.CANCELLED]
        )
        .order_by("start", "id")
    )
    # Lines of this tutor's live invoices whose lesson changed after the line was written.
    changed = list(
        InvoiceLine.objects.filter(invoice__tutor=tutor, lesson__isnull=False, credited_by__isnull=True)
        .filter(lesson__updated_at__gt=F("created_at"))
        .exclude(invoice__status=InvoiceStatus.CANCELLED)
        .select_related("invoice", "lesson__subject", "lesson__student", "lesson__student__student_profile")
        .order_by("pk")
    )
    book = RateBook(fresh)
    for lesson in fresh:
        parent_id = parent_of[lesson.student_id]
        kind = charge_kind(lesson, parent_id=parent_id)
        if kind is None:
            continue
        rate = book.rate_for(lesson)
        if rate is None:
            plan.unpriced.append(lesson)
            continue
        quantity = hours_of(lesson)
        plan.new_lines.append(
            PlannedLine(
                parent_id=parent_id,
                student_id=lesson.student_id,
                currency=rate.currency,
                kind=kind,
                description=describe(lesson, kind),
                quantity=quantity,
                unit_price=rate.price_per_hour,
                amount=line_amount(quantity, rate.price_per_hour),
                lesson=lesson,
            )
        )
    for line in changed:
        lesson = line.lesson
        profile = getattr(lesson.student, "student_profile", None)
        kind = charge_kind(lesson, parent_id=profile.parent_id if profile else None)
        now_amount = line_amount(hours_of(lesson), line.unit_price) if kind else Decimal("0.00")
        if line.invoice.status == InvoiceStatus.DRAFT:
            if kind is None:
                plan.draft_updates.append((line, None))
            elif (kind, now_amount, describe(lesson, kind)) != (line.kind, line.amount, line.description):
                values = {"kind": kind, "description": describe(lesson, kind), "quantity": hours_of(lesson)}
                plan.draft_updates.append((line, {**values, "amount": now_amount}))
        elif now_amount < line.amount:
            difference = now_amount - line.amount
            why = REASONS.get(kind, "not billable") if kind else "not billable"
            plan.credits.append(
                PlannedLine(
                    parent_id=line.invoice.parent_id,
                    student_id=lesson.student_id,
                    currency=line.invoice.currency,
                    kind=LineKind.CREDIT,
                    description=f"Credit for invoice #{line.invoice_id}: {line.description} (now {why})"[:500],
                    quantity=Decimal(1),
                    unit_price=difference,
                    amount=difference,
                    credits=line,
                )
            )
    parents = {p.parent_id for p in [*plan.new_lines, *plan.credits]}
    plan.parents = {user.pk: user for user in User.objects.filter(pk__in=parents)}
    drafts = Invoice.objects.filter(
        tutor=tutor, parent_id__in=parents, status=InvoiceStatus.DRAFT, billing_run__isnull=False
    ).order_by("pk")
    for draft in drafts:
        plan.drafts.setdefault((draft.parent_id, draft.currency), draft)
    _drop_credits_that_cannot_go(plan)
    return plan


def _drop_credits_that_cannot_go(plan: Plan) -> None:
    """A credit waits (for a later run) when the parent's draft would not stay above zero with it."""
    positive: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in plan.new_lines:
        positive[(line.parent_id, line.currency)] += line.amount
    for key, draft in plan.drafts.items():
        positive[key] += draft.amount
    kept = []
    for credit in plan.credits:
        key = (credit.parent_id, credit.currency)
        if positive[key] + credit.amount > 0:
            positive[key] += credit.amount
            kept.append(credit)
    plan.credits = kept


def preview_data(plan: Plan) -> dict:
    """The preview's body: per draft to write, its lines and total."""
    groups: dict[tuple, list[PlannedLine]] = defaultdict(list)
    for line in [*plan.new_lines, *plan.credits]:
        groups[(line.parent_id, line.currency)].append(line)
    invoices = []
    for (parent_id, currency), lines in sorted(groups.items()):
        draft = plan.drafts.get((parent_id, currency))
        parent = plan.parents[parent_id]
        invoices.append(
            {
                "parent": {"id": parent.pk, "full_name": parent.full_name},
                "currency": currency,
                "existing_draft": draft.pk if draft else None,
                "lines": [
                    {
                        "lesson": line.lesson.pk if line.lesson else None,
                        "student": line.student_id,
                        "kind": line.kind,
                        "description": line.description,
                        "quantity": f"{line.quantity:.2f}",
                        "unit_price": f"{line.unit_price:.2f}",
                        "amount": f"{line.amount:.2f}",
                    }
                    for line in lines
                ],
                "total": f"{sum((line.amount for line in lines), Decimal(0)):.2f}",
            }
        )
    return {
        "tutor": plan.tutor.pk,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "invoices": invoices,
        "draft_changes": [
            {"line": line.pk, "invoice": line.invoice_id, "action": "remove" if values is None else "update"}
            for line, values in plan.draft_updates
        ],
        "unpriced_lessons": [lesson.pk for lesson in plan.unpriced],
    }


def billing_preview(*, tutor: User, period_start: date, period_end: date) -> dict:
    return preview_data(plan_billing(tutor=tutor, period_start=period_start, period_end=period_end))


def _lock_tutor(tutor: User) -> None:
    """One run per tutor at a time (PostgreSQL: the tutor's row lock; SQLite: its IMMEDIATE write lock)."""
    User.objects.select_for_update(of=("self",)).filter(pk=tutor.pk).values_list("pk", flat=True).first()


def billing_run(*, tutor: User, period_start: date, period_end: date, by: User | None) -> BillingRun:
    """Write the drafts of a run (see the module); tells the tutor once it has committed, if anything was written."""
    with transaction.atomic():
        check_tutor(tutor)
        check_period(period_start, period_end)
        _lock_tutor(tutor)
        plan = plan_billing(tutor=tutor, period_start=period_start, period_end=period_end)
        run = BillingRun.objects.create(tutor=tutor, period_start=period_start, period_end=period_end, created_by=by)
        touched = _write(plan, run)
        run.lines_added = len(plan.new_lines) + len(plan.credits)
        run.lines_changed = len(plan.draft_updates)
        run.save(update_fields=["lines_added", "lines_changed"])
        run.touched = sorted(touched)
        if touched and notifications_enabled():
            text = (
                f"Billing {period_start:%Y-%m-%d}..{period_end:%Y-%m-%d}: {len(touched)} draft invoice(s) "
                f"ready to review ({run.lines_added} new line(s))."
            )
            transaction.on_commit(
                lambda: notify(tutor, event="billing_run_ready", text=text, dedupe_key=f"billing_run:{run.pk}"),
                robust=True,
            )
    if touched:
        logger.info("billing run", extra={"fields": {"run": run.pk, "invoices": sorted(touched)}})
    return run


def _write(plan: Plan, run: BillingRun) -> set[int]:
    touched: set[int] = set()
    locked = {inv.pk: inv for inv in invoices_for_update([line.invoice_id for line, _ in plan.draft_updates])}
    for line, values in plan.draft_updates:
        invoice = locked[line.invoice_id]
        if invoice.status != InvoiceStatus.DRAFT:
            continue
        if values is None:
            line.delete()
        else:
            model_update(line, values, fields=("kind", "description", "quantity", "amount"))
        touched.add(invoice.pk)
    for pk in sorted(touched):
        invoice = locked[pk]
        if not invoice.lines.exists():  # cancelled first: only a cancelled invoice may stand at 0
            apply_transition(invoice=invoice, new=InvoiceStatus.CANCELLED, by=None, reason="no billable lessons left")
        recompute(invoice)
    groups: dict[tuple, list[PlannedLine]] = defaultdict(list)
    for line in [*plan.new_lines, *plan.credits]:
        groups[(line.parent_id, line.currency)].append(line)
    due = timezone.localdate() + timedelta(days=settings.BILLING_DUE_DAYS)
    for (parent_id, currency), lines in sorted(groups.items()):
        invoice = plan.drafts.get((parent_id, currency))
        if invoice is not None:
            invoice = invoices_for_update([invoice.pk]).filter(status=InvoiceStatus.DRAFT).first()
        if invoice is None:
            first_child = min(line.student_id for line in lines)
            invoice = Invoice.objects.create(
                tutor=plan.tutor,
                student_id=first_child,
                parent_id=parent_id,
                amount=sum((line.amount for line in lines), Decimal(0)),
                currency=currency,
                description=f"Lessons {plan.period_start:%Y-%m-%d}..{plan.period_end:%Y-%m-%d}",
                due_date=due,
                billing_run=run,
            )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                lesson=line.lesson,
                credits=line.credits,
            )
            for line in lines
        )
        recompute(invoice)
        touched.add(invoice.pk)
    return touched


def billing_run_every_tutor(*, today: date | None = None) -> int:
    """The monthly job: bill the previous calendar month for every active tutor. Returns the number of runs."""
    today = today or timezone.localdate()
    period_end = today.replace(day=1) - timedelta(days=1)
    period_start = period_end.replace(day=1)
    count = 0
    for tutor in User.objects.filter(role=Role.TUTOR, is_active=True).order_by("pk").iterator():
        billing_run(tutor=tutor, period_start=period_start, period_end=period_end, by=None)
        count += 1
    return count


# --- the billing state of lessons --------------------------------------------------------------------------------


def lesson_billing_state(lesson: Lesson) -> dict:
    """Not billable, billable, invoiced (which line of which invoice); from a lesson read with
    `selectors.lessons_with_billing` (no query per lesson)."""
    line = getattr(lesson, "invoice_line", None)
    if line is not None and line.invoice.status != InvoiceStatus.CANCELLED:
        return {"state": BillingState.INVOICED, "invoice": line.invoice_id, "line": line.pk, "kind": line.kind}
    profile = getattr(lesson.student, "student_profile", None)
    kind = charge_kind(lesson, parent_id=profile.parent_id if profile else None)
    state = BillingState.BILLABLE if kind else BillingState.NOT_BILLABLE
    return {"state": state, "invoice": None, "line": None, "kind": kind}


def first_of_month() -> bool:
    return timezone.localdate().day == 1
