"""Row locks of invoices and payments, always taken in primary-key order (no deadlocks between services).

`of=("self",)` keeps PostgreSQL from also locking joined rows; SQLite has no row locks (its write lock, taken
at the start of every transaction in IMMEDIATE mode, serializes writers instead).
"""

from django.db.models import QuerySet

from invoices.models import Invoice, Payment


def invoices_for_update(pks) -> QuerySet[Invoice]:
    return Invoice.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")


def invoice_for_update(pk: int) -> Invoice:
    """The invoice, locked until the end of the transaction (raises Invoice.DoesNotExist)."""
    return Invoice.objects.select_for_update(of=("self",)).get(pk=pk)


def payment_for_update(pk: int) -> Payment:
    return Payment.objects.select_for_update(of=("self",)).get(pk=pk)
