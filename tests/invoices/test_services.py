"""The lifecycle through the services: every transition, legal and illegal, with its history row."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from invoices import services
from invoices.errors import IllegalTransition, InvoiceError
from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, TutorFactory, link_student
from tests.invoices.factories import InvoiceFactory, make_past_due
from tests.invoices.helpers import invoice_in
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db
S = InvoiceStatus

LEGAL = {
    (S.DRAFT, S.SENT),
    (S.DRAFT, S.CANCELLED),
    (S.SENT, S.VIEWED),
    (S.SENT, S.OVERDUE),
    (S.SENT, S.CANCELLED),
    (S.VIEWED, S.PAID),
    (S.VIEWED, S.OVERDUE),
    (S.VIEWED, S.CANCELLED),
    (S.OVERDUE, S.PAID),
    (S.OVERDUE, S.CANCELLED),
}
# Paid is reached only through a payment; its legal and illegal cases are in test_payments.py.
TARGETS_BY_SERVICE = [S.SENT, S.VIEWED, S.OVERDUE, S.CANCELLED]


def test_transition_table_is_the_one_of_the_contract():
    table = {(old, new) for old, targets in services.TRANSITIONS.items() for new in targets}
    assert table == LEGAL


def _run(invoice: Invoice, new: str):
    if new == S.SENT:
        return services.invoice_send(invoice_id=invoice.pk, by=invoice.tutor)
    if new == S.VIEWED:
        return services.invoice_mark_viewed(invoice_id=invoice.pk, by=invoice.parent)
    if new == S.OVERDUE:
        make_past_due(invoice)
        return services.invoice_mark_overdue(invoice_id=invoice.pk)
    return services.invoice_cancel(invoice_id=invoice.pk, by=invoice.tutor, reason="no longer needed")


@pytest.mark.parametrize("old", S.values)
@pytest.mark.parametrize("new", TARGETS_BY_SERVICE)
def test_every_transition_legal_or_409_with_history(old, new):
    invoice = invoice_in(old)
    history_before = list(invoice.history.values_list("old_status", "new_status"))
    before = Invoice.objects.values().get(pk=invoice.pk)

    if (old, new) in LEGAL:
        _run(invoice, new)
        invoice.refresh_from_db()
        assert invoice.status == new
        last = invoice.history.order_by("-id").first()
        assert (last.old_status, last.new_status) == (old, new)
        assert invoice.history.count() == len(history_before) + 1
        expected_by = {S.SENT: invoice.tutor, S.VIEWED: invoice.parent, S.OVERDUE: None, S.CANCELLED: invoice.tutor}[
            new
        ]
        assert last.changed_by == expected_by
        stamp = {S.SENT: "sent_at", S.VIEWED: "viewed_at"}.get(new)
        if stamp:
            assert getattr(invoice, stamp) is not None
    else:
        with pytest.raises(IllegalTransition) as raised:
            _run(invoice, new)
        assert raised.value.status_code == 409
        after = Invoice.objects.values().get(pk=invoice.pk)
        if new == S.OVERDUE:  # the test itself moved the due date
            after["due_date"], after["updated_at"] = before["due_date"], before["updated_at"]
        assert after == before
        assert list(invoice.history.values_list("old_status", "new_status")) == history_before


def test_history_rows_record_who_when_and_reason():
    invoice = invoice_in(S.VIEWED)
    services.invoice_cancel(invoice_id=invoice.pk, by=invoice.tutor, reason="moved abroad")
    rows = list(InvoiceStatusHistory.objects.filter(invoice=invoice).order_by("id"))
    assert [(r.old_status, r.new_status) for r in rows] == [
        (S.DRAFT, S.SENT),
        (S.SENT, S.VIEWED),
        (S.VIEWED, S.CANCELLED),
    ]
    assert rows[-1].reason == "moved abroad"
    assert rows[0].changed_at <= rows[1].changed_at <= rows[2].changed_at


def test_create_bills_the_students_parent():
    tutor, parent = TutorFactory(), ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    invoice = services.invoice_create(
        tutor=tutor, student=student, amount=Decimal("10.50"), due_date=timezone.localdate(), description="x"
    )
    assert (invoice.parent, invoice.status, invoice.currency) == (parent, S.DRAFT, "RUB")
    assert not invoice.history.exists()


def test_create_refuses_foreign_student_parentless_student_and_foreign_enrollment():
    tutor, parent = TutorFactory(), ParentFactory()
    foreign = link_student(StudentFactory(), tutor=TutorFactory(), parent=parent)
    orphan = link_student(StudentFactory(), tutor=tutor)
    mine = link_student(StudentFactory(), tutor=tutor, parent=parent)
    other_enrollment = EnrollmentFactory(
        student=foreign, subject=SubjectFactory(name="Physics"), teacher=TeacherFactory()
    )
    due = timezone.localdate() + timedelta(days=3)
    cases = [
        ({"student": foreign}, "not_your_student"),
        ({"student": orphan}, "student_has_no_parent"),
        ({"student": mine, "enrollment": other_enrollment}, "enrollment_mismatch"),
        ({"student": mine, "due_date": timezone.localdate() - timedelta(days=1)}, "due_date_in_past"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvoiceError) as raised:
            services.invoice_create(tutor=tutor, amount=Decimal(1), **{"due_date": due, **kwargs})
        assert (raised.value.code, raised.value.status_code) == (code, 400)
    assert not Invoice.objects.exists()


def test_only_drafts_are_edited():
    invoice = InvoiceFactory()
    services.invoice_update(invoice_id=invoice.pk, by=invoice.tutor, data={"amount": Decimal("99.00")})
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("99.00")
    services.invoice_send(invoice_id=invoice.pk, by=invoice.tutor)
    with pytest.raises(InvoiceError) as raised:
        services.invoice_update(invoice_id=invoice.pk, by=invoice.tutor, data={"amount": Decimal("1.00")})
    assert (raised.value.status_code, raised.value.code) == (409, "not_editable")
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("99.00")


def test_only_the_tutor_or_an_admin_sends_and_only_the_parent_views():
    invoice = InvoiceFactory()
    with pytest.raises(InvoiceError) as raised:
        services.invoice_send(invoice_id=invoice.pk, by=TutorFactory())
    assert raised.value.status_code == 403
    with pytest.raises(InvoiceError):
        services.invoice_send(invoice_id=invoice.pk, by=invoice.parent)
    services.invoice_send(invoice_id=invoice.pk, by=invoice.tutor)
    with pytest.raises(InvoiceError):
        services.invoice_mark_viewed(invoice_id=invoice.pk, by=invoice.tutor)
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT


def test_mark_overdue_refuses_an_invoice_not_yet_due():
    invoice = invoice_in(S.SENT)
    with pytest.raises(InvoiceError) as raised:
        services.invoice_mark_overdue(invoice_id=invoice.pk)
    assert raised.value.code == "not_due"
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": Decimal("0.00")},
        {"amount": Decimal("-5.00")},
        {"status": "bogus"},
    ],
)
def test_database_checks_refuse_bad_rows(changes):
    invoice = InvoiceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(**changes)


def test_database_checks_keep_the_timestamps_in_order():
    invoice = invoice_in(S.VIEWED)
    earlier = invoice.created_at - timedelta(seconds=5)
    for changes in (
        {"sent_at": earlier},
        {"viewed_at": invoice.sent_at - timedelta(seconds=1)},
        {"paid_at": invoice.viewed_at - timedelta(seconds=1)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(**changes)
