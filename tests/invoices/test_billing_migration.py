"""Migration invoices/0008: each invoice written before lines existed gets one manual line carrying its amount,
unchanged (and an invoice that already has lines is left alone). On SQLite and on PostgreSQL: the database is taken
back to 0007 (on PostgreSQL that also drops the trigger of 0009), invoices are written with the schema of then
(no lines), and the migrations run forward again."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from tests.accounts.factories import ParentFactory, StudentFactory, TutorFactory, link_student

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("invoices", "0007_lines_rates_billing")]
AMOUNTS = [Decimal("1500.00"), Decimal("0.01"), Decimal("99999999.99"), Decimal("1234.56")]
STATUSES = [InvoiceStatus.DRAFT, InvoiceStatus.SENT, InvoiceStatus.PAID, InvoiceStatus.CANCELLED]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_each_existing_invoice_gets_one_manual_line_with_its_amount():
    tutor, parent = TutorFactory(), ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    try:
        executor = migrate(BEFORE)
        then = executor.loader.project_state(BEFORE).apps
        OldInvoice = then.get_model("invoices", "Invoice")
        OldLine = then.get_model("invoices", "InvoiceLine")
        people = {"tutor_id": tutor.pk, "student_id": student.pk, "parent_id": parent.pk, "due_date": "2026-10-10"}
        old = [
            OldInvoice.objects.create(amount=amount, status=status, description=f"Lessons, week {i}", **people)
            for i, (amount, status) in enumerate(zip(AMOUNTS, STATUSES, strict=True))
        ]
        blank = OldInvoice.objects.create(amount=Decimal("700.00"), description="  ", **people)
        long = OldInvoice.objects.create(amount=Decimal("800.00"), description="x" * 2000, **people)
        # Already has its lines (written after 0007): left alone.
        lined = OldInvoice.objects.create(amount=Decimal("300.00"), description="by lines", **people)
        for price in ("100.00", "200.00"):
            OldLine.objects.create(invoice=lined, kind="manual", description="part", unit_price=price, amount=price)
        assert OldLine.objects.count() == 2
    finally:
        migrate(latest())

    for invoice, amount in zip(old, AMOUNTS, strict=True):
        line = InvoiceLine.objects.get(invoice_id=invoice.pk)
        assert (line.kind, line.quantity, line.unit_price, line.amount) == (LineKind.MANUAL, 1, amount, amount)
        assert line.description == invoice.description
        assert line.lesson_id is None and line.credits_id is None
        assert Invoice.objects.get(pk=invoice.pk).amount == amount  # unchanged
    assert InvoiceLine.objects.get(invoice_id=blank.pk).description == f"Invoice #{blank.pk}"
    assert InvoiceLine.objects.get(invoice_id=long.pk).description == "x" * 500
    assert sorted(InvoiceLine.objects.filter(invoice_id=lined.pk).values_list("amount", flat=True)) == [
        Decimal("100.00"),
        Decimal("200.00"),
    ]
    assert InvoiceLine.objects.count() == len(old) + 2 + 2
    for invoice in Invoice.objects.all():
        assert invoice.lines.aggregate(total=Sum("amount"))["total"] == invoice.amount


def test_backwards_removes_the_lines_and_forwards_again_restores_them():
    tutor, parent = TutorFactory(), ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    try:
        executor = migrate(BEFORE)
        then = executor.loader.project_state(BEFORE).apps
        OldInvoice = then.get_model("invoices", "Invoice")
        invoice = OldInvoice.objects.create(
            tutor_id=tutor.pk, student_id=student.pk, parent_id=parent.pk, amount="450.00", due_date="2026-10-10"
        )
        migrate(latest())
        assert InvoiceLine.objects.filter(invoice_id=invoice.pk).count() == 1
        migrate(BEFORE)
        assert InvoiceLine.objects.count() == 0
    finally:
        migrate(latest())
    assert list(InvoiceLine.objects.values_list("invoice_id", "amount")) == [(invoice.pk, Decimal("450.00"))]
