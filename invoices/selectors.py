"""Reads of invoices, scoped to the caller: the tutor sees the invoices they issued, the parent those they pay,
the admin all; students and teachers none (they are stopped earlier by the role gate, views.CanUseInvoices)."""

from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from accounts.models import Role, User
from config.exceptions import NotFound
from config.parsing import InvalidInput, parse_id
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, InvoiceStatusHistory, LessonRate, PayRate
from scheduling.models import Lesson
from scheduling.selectors import lessons_visible_to


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    invoices = Invoice.objects.all()
    if user.is_admin:
        return invoices
    if user.role == Role.TUTOR:
        return invoices.filter(tutor=user)
    if user.role == Role.PARENT:
        return invoices.filter(parent=user)
    return invoices.none()


def invoices_for_list(user: User) -> QuerySet[Invoice]:
    """What the list and detail screens render, in one query per page."""
    return invoices_visible_to(user).select_related("tutor", "student", "parent")


def access_invoice(user: User, invoice_id: int | str, *, for_update: bool = False) -> Invoice:
    """The invoice if `user` may see it; a foreign invoice is "not found" (404 `not_found`) exactly like a missing
    one. With `for_update`, its row is locked (inside the caller's transaction)."""
    invoices = invoices_for_list(user)
    if for_update:
        invoices = invoices.select_for_update(of=("self",))
    try:
        invoice = invoices.filter(pk=parse_id(invoice_id)).first()
    except InvalidInput:
        invoice = None
    if invoice is None:
        raise NotFound()
    return invoice


def invoice_history(invoice: Invoice) -> QuerySet[InvoiceStatusHistory]:
    return invoice.history.select_related("changed_by").order_by("-changed_at", "-id")


def invoice_summary(invoices: QuerySet[Invoice]) -> dict:
    """Counts and totals per status (totals per currency), every status present; one query."""
    summary = {status: {"count": 0, "totals": {}} for status in InvoiceStatus.values}
    rows = invoices.order_by().values("status", "currency").annotate(count=Count("id"), total=Sum("amount"))
    for row in rows:
        entry = summary[row["status"]]
        entry["count"] += row["count"]
        entry["totals"][row["currency"]] = f"{(row['total'] or Decimal(0)):.2f}"
    return {"count": sum(entry["count"] for entry in summary.values()), "by_status": summary}


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    return invoice.lines.order_by("pk")


def lessons_with_billing(user: User) -> QuerySet[Lesson]:
    """The lessons `user` sees, with what their billing state needs (one query per page)."""
    return lessons_visible_to(user).select_related("student__student_profile", "invoice_line__invoice")


def lesson_rates() -> QuerySet[LessonRate]:
    return LessonRate.objects.select_related("teacher", "subject", "student").order_by("-valid_from", "-id")


def pay_rates() -> QuerySet[PayRate]:
    return PayRate.objects.select_related("teacher", "subject").order_by("-valid_from", "-id")
