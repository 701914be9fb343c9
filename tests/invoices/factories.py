"""Invoices ready to bill: a tutor, their student and the student's parent, linked as in production."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from invoices.services import invoice_send
from tests.accounts.factories import ParentFactory, StudentFactory, TutorFactory, link_student


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
        # As invoice_create does: the amount is one manual line (on PostgreSQL the commit checks the sum).
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
