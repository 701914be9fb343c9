"""Audit history of invoices: the one place that writes status history rows (called by services only)."""

from datetime import datetime

from accounts.models import User
from invoices.models import Invoice, InvoiceStatusHistory


def status_changed(
    *, invoice: Invoice, old: str, new: str, by: User | None, at: datetime, reason: str = ""
) -> InvoiceStatusHistory:
    return InvoiceStatusHistory.objects.create(
        invoice=invoice, old_status=old, new_status=new, changed_by=by, changed_at=at, reason=reason[:500]
    )


def statuses_changed(
    *, invoices: list[Invoice], old_by_pk: dict[int, str], new: str, at: datetime, reason: str
) -> None:
    """The same system change on many invoices at once (the overdue job), one INSERT."""
    InvoiceStatusHistory.objects.bulk_create(
        InvoiceStatusHistory(
            invoice=invoice,
            old_status=old_by_pk[invoice.pk],
            new_status=new,
            changed_by=None,
            changed_at=at,
            reason=reason,
        )
        for invoice in invoices
    )
