"""Bring invoices into any status the way the platform does (through the services)."""

from django.db import transaction

from invoices import services
from invoices.locks import invoice_for_update
from invoices.models import Invoice, InvoiceStatus
from tests.invoices.factories import InvoiceFactory, make_past_due

S = InvoiceStatus


def invoice_in(status: str, **kwargs) -> Invoice:
    invoice = InvoiceFactory(**kwargs)
    tutor, parent = invoice.tutor, invoice.parent
    if status == S.DRAFT:
        return invoice
    if status == S.CANCELLED:
        return services.invoice_cancel(invoice_id=invoice.pk, by=tutor, reason="test")
    services.invoice_send(invoice_id=invoice.pk, by=tutor)
    if status == S.SENT:
        return Invoice.objects.get(pk=invoice.pk)
    if status == S.OVERDUE:
        make_past_due(invoice)
        return services.invoice_mark_overdue(invoice_id=invoice.pk)
    services.invoice_mark_viewed(invoice_id=invoice.pk, by=parent)
    if status == S.VIEWED:
        return Invoice.objects.get(pk=invoice.pk)
    assert status == S.PAID
    with transaction.atomic():
        locked = invoice_for_update(invoice.pk)
        return services.apply_transition(invoice=locked, new=S.PAID, by=None, reason="test payment")
