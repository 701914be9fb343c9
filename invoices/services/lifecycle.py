"""Invoice writes: create, edit drafts, and every status transition, each under a row lock with history.

The lifecycle (docs/api.md "Invoices"): draft → sent → viewed → paid; sent|viewed → overdue; draft|sent|viewed|overdue →
cancelled; overdue → paid. Anything else is `IllegalTransition` (409) and changes nothing.
"""

import logging
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, StudentProfile, User
from core.updating import model_update
from enrollments.models import Enrollment
from enrollments.visibility import is_student_of
from invoices import history
from invoices.errors import IllegalTransition, InvoiceError, InvoiceErrorCode
from invoices.locks import invoice_for_update, invoices_for_update
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from invoices.selectors import invoices_visible_to
from invoices.services.lines import LINE_FIELDS
from invoices.services.notices import notify_invoice_sent, withdraw_invoice_notice
from notifications.services import notifications_enabled

logger = logging.getLogger("thebot.invoices")

S = InvoiceStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.VIEWED, S.OVERDUE, S.CANCELLED}),
    S.VIEWED: frozenset({S.PAID, S.OVERDUE, S.CANCELLED}),
    S.OVERDUE: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset(),
    S.CANCELLED: frozenset(),
}
# The timestamp each status sets when reached.
_STAMPS = {S.SENT: "sent_at", S.VIEWED: "viewed_at", S.PAID: "paid_at"}
# What a transition writes: the status, its stamp, and the payment that settled it.
_TRANSITION_FIELDS = ("status", *_STAMPS.values(), "payment")
OVERDUE_CANDIDATES = (S.SENT, S.VIEWED)
# Reaching these, an invoice whose parent notice is still queued has it withdrawn.
_NOTICE_WITHDRAWN_BY = (S.PAID, S.CANCELLED)


def can_transition(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


def apply_transition(*, invoice: Invoice, new: str, by: User | None, reason: str = "", **fields) -> Invoice:
    """Move a LOCKED invoice to `new` and write its history row. Callers hold the row lock (locks.py)."""
    old = invoice.status
    if not can_transition(old, new):
        raise IllegalTransition(old, new)
    now = timezone.now()
    changes = {"status": new, **fields}
    if new in _STAMPS:
        changes[_STAMPS[new]] = now
    model_update(invoice, changes, fields=_TRANSITION_FIELDS)
    history.status_changed(invoice=invoice, old=old, new=new, by=by, at=now, reason=reason)
    announced = old != S.DRAFT and invoice.telegram_message_id is None  # its notice may still be queued
    if new in _NOTICE_WITHDRAWN_BY and announced and notifications_enabled():
        # robust: a failure is logged and never fails the (already committed) change.
        transaction.on_commit(lambda: withdraw_invoice_notice(invoice.pk), robust=True)
    return invoice


def check_can_manage_invoice(by: User, invoice: Invoice) -> None:
    """Editing, sending and cancelling are for the invoice's tutor and admins (403 `not_allowed` otherwise)."""
    if not (by.is_admin or by.pk == invoice.tutor_id):
        raise InvoiceError(
            "Only the invoice's tutor or an admin may do this.", InvoiceErrorCode.NOT_ALLOWED, status=403
        )


def _check_enrollment(enrollment: Enrollment | None, student_id: int) -> None:
    if enrollment is not None and enrollment.student_id != student_id:
        raise InvoiceError(
            "The enrollment is not the student's.",
            InvoiceErrorCode.ENROLLMENT_MISMATCH,
            fields={"enrollment": ["The enrollment is not the student's."]},
        )


def _check_due_date(due_date: date) -> None:
    if due_date < timezone.localdate():
        raise InvoiceError(
            "The due date is in the past.",
            InvoiceErrorCode.DUE_DATE_IN_PAST,
            fields={"due_date": ["The due date is in the past."]},
        )


@transaction.atomic
def invoice_create(
    *,
    tutor: User,
    student: User,
    amount: Decimal,
    due_date: date,
    description: str = "",
    enrollment: Enrollment | None = None,
) -> Invoice:
    """A draft invoice from `tutor` to the parent of `student` (one of the tutor's students)."""
    if tutor.role != Role.TUTOR or student.role != Role.STUDENT or not is_student_of(tutor, student):
        raise InvoiceError(
            "You can bill only your own students.",
            InvoiceErrorCode.NOT_YOUR_STUDENT,
            fields={"student": ["Not one of your students."]},
        )
    parent_id = StudentProfile.objects.filter(user=student).values_list("parent_id", flat=True).first()
    if parent_id is None:
        raise InvoiceError(
            "The student has no parent to bill.",
            InvoiceErrorCode.STUDENT_HAS_NO_PARENT,
            fields={"student": ["The student has no parent to bill."]},
        )
    _check_enrollment(enrollment, student.pk)
    _check_due_date(due_date)
    invoice = Invoice.objects.create(
        tutor=tutor,
        student=student,
        parent_id=parent_id,
        enrollment=enrollment,
        amount=amount,
        currency=settings.DEFAULT_CURRENCY,
        description=description,
        due_date=due_date,
    )
    # The amount typed by hand is one manual line (the invoice's amount is the sum of its lines).
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.MANUAL,
        description=description.strip()[:500] or "Tutoring",
        quantity=1,
        unit_price=amount,
        amount=amount,
    )
    return invoice


EDITABLE_FIELDS = ("amount", "description", "due_date", "enrollment")


@transaction.atomic
def invoice_update(*, invoice_id: int, by: User, data: dict) -> Invoice:
    """Edit a draft (amount, description, due date, enrollment). Anything past draft is 409."""
    invoice = invoice_for_update(invoice_id)
    check_can_manage_invoice(by, invoice)
    if invoice.status != S.DRAFT:
        raise InvoiceError("Only drafts can be edited.", InvoiceErrorCode.NOT_EDITABLE, status=409)
    changes = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    if "amount" in changes:
        _set_single_line_amount(invoice, changes["amount"])
    if "enrollment" in changes:
        _check_enrollment(changes["enrollment"], invoice.student_id)
    if "due_date" in changes:
        _check_due_date(changes["due_date"])
    model_update(invoice, changes, fields=EDITABLE_FIELDS)
    return invoice


def _set_single_line_amount(invoice: Invoice, amount: Decimal) -> None:
    """`amount` on an invoice of one manual line sets that line; with more lines, the lines are edited instead."""
    lines = list(invoice.lines.all()[:2])
    if len(lines) != 1 or lines[0].kind != LineKind.MANUAL:
        raise InvoiceError(
            "This invoice has several lines: edit its lines (/lines/) instead of its amount.",
            InvoiceErrorCode.HAS_LINES,
            status=409,
        )
    model_update(lines[0], {"quantity": Decimal(1), "unit_price": amount, "amount": amount}, fields=LINE_FIELDS)


def invoice_send(*, invoice_id: int, by: User) -> Invoice:
    """draft → sent; tells the parent (notifications) once the transaction has committed."""
    with transaction.atomic():
        invoice = invoice_for_update(invoice_id)
        check_can_manage_invoice(by, invoice)
        apply_transition(invoice=invoice, new=S.SENT, by=by)
        if notifications_enabled():
            sent = Invoice.objects.select_related("parent", "student").get(pk=invoice.pk)
            # robust: a queue failure is logged and never fails the (already committed) send.
            transaction.on_commit(lambda: notify_invoice_sent(sent), robust=True)
    return invoice


@transaction.atomic
def invoice_mark_viewed(*, invoice_id: int, by: User) -> Invoice:
    """sent → viewed, by the invoice's parent (opening it, or the Telegram "Seen" button)."""
    invoice = invoice_for_update(invoice_id)
    if by.pk != invoice.parent_id:
        raise InvoiceError("Only the parent marks an invoice viewed.", InvoiceErrorCode.NOT_ALLOWED, status=403)
    return apply_transition(invoice=invoice, new=S.VIEWED, by=by)


def invoice_mark_viewed_on_read(*, invoice: Invoice, by: User) -> bool:
    """The parent's first read of a sent invoice marks it viewed; a concurrent read that lost the race is fine."""
    if by.pk != invoice.parent_id or invoice.status != S.SENT:
        return False
    try:
        invoice_mark_viewed(invoice_id=invoice.pk, by=by)
    except IllegalTransition:
        return False
    return True


def telegram_invoice_seen(*, user: User, object_id: int) -> str:
    """The parent pressed "Seen" in Telegram (settings.TELEGRAM_CALLBACK_ACTIONS): mark the invoice viewed.
    Returns the short answer shown in Telegram."""
    if not Invoice.objects.filter(pk=object_id, parent=user).exists():
        return "Invoice not found."
    try:
        invoice_mark_viewed(invoice_id=object_id, by=user)
    except IllegalTransition:
        return "Already marked as seen."
    return "Marked as seen."


def invoice_on_read(*, invoice: Invoice, by: User) -> bool:
    """What reading one invoice does to it, in one call from the view: past its due date a sent or viewed invoice
    becomes overdue, else the parent's first read of a sent invoice marks it viewed. Returns whether it changed
    (the caller reads it again)."""
    past_due = invoice.status in OVERDUE_CANDIDATES and invoice.due_date < timezone.localdate()
    if past_due and invoices_mark_overdue(among=Invoice.objects.filter(pk=invoice.pk)):
        return True
    return invoice_mark_viewed_on_read(invoice=invoice, by=by)


def invoices_on_read(*, by: User) -> int:
    """What reading the list or the summary does: the reader's invoices past their due date become overdue (one
    query when none is), so that what they read is up to date between two runs of the daily job."""
    return invoices_mark_overdue(among=invoices_visible_to(by))


@transaction.atomic
def invoice_cancel(*, invoice_id: int, by: User, reason: str = "") -> Invoice:
    invoice = invoice_for_update(invoice_id)
    check_can_manage_invoice(by, invoice)
    apply_transition(invoice=invoice, new=S.CANCELLED, by=by, reason=reason)
    release_lessons(invoice)
    return invoice


def release_lessons(invoice: Invoice) -> None:
    """A cancelled invoice bills nothing: its lessons can be billed again (its lines keep their descriptions)."""
    invoice.lines.filter(lesson__isnull=False).update(lesson=None)


@transaction.atomic
def invoice_mark_overdue(*, invoice_id: int, by: User | None = None, today: date | None = None) -> Invoice:
    """sent|viewed → overdue for one invoice whose due date has passed (admin action)."""
    invoice = invoice_for_update(invoice_id)
    if invoice.due_date >= (today or timezone.localdate()):
        raise InvoiceError("The invoice is not past its due date.", InvoiceErrorCode.NOT_DUE, status=409)
    return apply_transition(invoice=invoice, new=S.OVERDUE, by=by, reason="past due date")


def invoices_mark_overdue(
    *, today: date | None = None, among: QuerySet[Invoice] | None = None, batch_size: int = 500
) -> int:
    """Move every sent/viewed invoice past its due date to overdue, once, with a system history row.

    Idempotent: a second run finds nothing. Runs daily (invoices/tasks.py), on the read path (`among` = what the
    reader sees; one query when nothing is due) and by `manage.py mark_overdue_invoices`.
    """
    today = today or timezone.localdate()
    candidates = (Invoice.objects.all() if among is None else among).filter(
        status__in=OVERDUE_CANDIDATES, due_date__lt=today
    )
    pks = list(candidates.order_by().values_list("pk", flat=True))
    moved = 0
    for start in range(0, len(pks), batch_size):
        moved += _mark_overdue_batch(sorted(pks[start : start + batch_size]), today)
    if moved:
        logger.info("invoices marked overdue", extra={"fields": {"count": moved}})
    return moved


@transaction.atomic
def _mark_overdue_batch(pks: list[int], today: date) -> int:
    # Re-checked under the lock: a concurrent payment or cancel may have moved some meanwhile.
    invoices = list(invoices_for_update(pks).filter(status__in=OVERDUE_CANDIDATES, due_date__lt=today))
    if not invoices:
        return 0
    now: datetime = timezone.now()
    old_by_pk = {invoice.pk: invoice.status for invoice in invoices}
    Invoice.objects.filter(pk__in=list(old_by_pk)).update(status=S.OVERDUE, updated_at=now)
    history.statuses_changed(invoices=invoices, old_by_pk=old_by_pk, new=S.OVERDUE, at=now, reason="past due date")
    return len(invoices)
