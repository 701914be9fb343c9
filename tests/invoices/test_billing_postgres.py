"""PostgreSQL only: the database's own hold on an invoice's sum (the deferred trigger of migration 0009), and two
billing runs at once for one tutor and period from real parallel clients (one set of drafts, each lesson billed
once)."""

import threading
import time
from decimal import Decimal

import httpx
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from knox.models import AuthToken

from accounts.models import User
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from scheduling.models import LessonStatus
from tests.invoices.factories import InvoiceFactory, add_line, at, cancelled, family, lesson
from tests.parallel import at_once, live_server_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the trigger of 0009, row locks)")


def _sqlstate(error: IntegrityError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


# --- the deferred trigger of 0009 ----------------------------------------------------------------------------------


def test_a_raw_update_of_the_amount_is_refused_at_commit():
    invoice = InvoiceFactory(amount=Decimal("1500.00"))
    # The error comes at the commit, as the transaction's block is left.
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE invoices_invoice SET amount = amount + 1 WHERE id = %s", [invoice.pk])
        # Deferred: inside the transaction the statement went through.
        assert Invoice.objects.get(pk=invoice.pk).amount == Decimal("1501.00")
    assert _sqlstate(refused.value) == "23514"
    assert "invoice_amount_equals_lines" in str(refused.value) or "differs from the sum" in str(refused.value)
    assert Invoice.objects.get(pk=invoice.pk).amount == Decimal("1500.00")  # nothing changed


@pytest.mark.parametrize("change", ["insert_line", "update_line", "delete_line"])
def test_changing_lines_without_the_amount_is_refused_at_commit(change):
    invoice = InvoiceFactory(amount=Decimal("1500.00"))
    line = invoice.lines.get()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        if change == "insert_line":
            add_line(invoice, kind=LineKind.MANUAL, description="extra", unit_price="10.00", amount="10.00")
        elif change == "update_line":
            InvoiceLine.objects.filter(pk=line.pk).update(amount=Decimal("1400.00"))
        else:
            InvoiceLine.objects.filter(pk=line.pk).delete()
    assert _sqlstate(refused.value) == "23514"
    assert list(invoice.lines.values_list("pk", "amount")) == [(line.pk, Decimal("1500.00"))]


def test_amount_and_lines_changed_together_commit_in_any_order():
    invoice = InvoiceFactory(amount=Decimal("1500.00"))
    with transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(amount=Decimal("1510.00"))  # first the amount, then the line
        add_line(invoice, kind=LineKind.MANUAL, description="extra", unit_price="10.00", amount="10.00")
    with transaction.atomic():
        invoice.lines.filter(description="extra").delete()  # first the line, then the amount
        Invoice.objects.filter(pk=invoice.pk).update(amount=Decimal("1500.00"))
    assert Invoice.objects.get(pk=invoice.pk).amount == Decimal("1500.00")


# --- two billing runs at once --------------------------------------------------------------------------------------


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _hold_row(user_pk: int, release: threading.Event, held: threading.Event) -> threading.Thread:
    """A transaction of another connection holding the tutor's row (as a run in progress would)."""

    def hold():
        try:
            with transaction.atomic():
                User.objects.select_for_update().filter(pk=user_pk).values_list("pk", flat=True).first()
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(timeout=10)
    return thread


def _a_month_of_lessons(world) -> set[int]:
    """October's lessons of a family's children; returns the billable ones."""
    billable = set()
    for hour, (kid, enrollment) in enumerate(zip(world.kids, world.enrollments, strict=True), start=10):
        billable |= {
            lesson(enrollment, at(5, hour)).pk,
            lesson(enrollment, at(12, hour), minutes=90).pk,
            lesson(enrollment, at(19, hour), status=LessonStatus.NO_SHOW).pk,
            cancelled(enrollment, at(26, hour), by=kid, hours_before=2).pk,
        }
        cancelled(enrollment, at(27, hour), by=kid, hours_before=72)  # early: not billed
        cancelled(enrollment, at(28, hour), by=world.teacher, hours_before=1)  # by the teacher: not billed
        lesson(enrollment, at(29, hour), status=LessonStatus.SCHEDULED)  # not held yet
    return billable


@pytest.mark.parametrize("clients", [2, 4])
def test_billing_runs_at_once_for_one_tutor_and_period_write_one_set_of_drafts(clients):
    first = family(price="1000.00")
    second = family(tutor=first.tutor, children=1, price="1200.00")
    billable = _a_month_of_lessons(first) | _a_month_of_lessons(second)
    tutor = first.tutor
    _, token = AuthToken.objects.create(user=tutor)
    body = {"period_start": "2026-10-01", "period_end": "2026-10-31"}

    with live_server_url() as url:

        def run_billing():
            with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
                response = client.post("/api/billing/runs/", json=body)
                return response.status_code, response.json()

        release, held = threading.Event(), threading.Event()
        holder = _hold_row(tutor.pk, release, held)

        def meanwhile(answers):
            # Every run is inside its transaction, waiting for the tutor's row; then they go together.
            deadline = time.monotonic() + 20
            while _waiting_on_locks() < clients and time.monotonic() < deadline:
                time.sleep(0.05)
            waiting = _waiting_on_locks()
            release.set()
            assert waiting == clients

        answers = at_once(clients, run_billing, meanwhile=meanwhile)
        holder.join(timeout=10)

    assert [status for status, _ in answers] == [201] * clients, answers
    added = sorted(body["lines_added"] for _, body in answers)
    assert added == [0] * (clients - 1) + [len(billable)]  # the first wrote everything, the others found it billed
    invoices = list(Invoice.objects.filter(tutor=tutor))
    assert len(invoices) == 2  # one draft per parent
    assert {invoice.status for invoice in invoices} == {InvoiceStatus.DRAFT}
    assert {invoice.parent_id for invoice in invoices} == {first.parent.pk, second.parent.pk}
    lines = InvoiceLine.objects.filter(invoice__tutor=tutor)
    billed = list(lines.values_list("lesson_id", flat=True))
    assert len(billed) == len(set(billed)) == len(billable)  # no lesson twice
    assert set(billed) == billable
    for invoice in invoices:
        assert invoice.amount == invoice.lines.aggregate(total=Sum("amount"))["total"]
    # 1000/h: per child 1 + 1.5 + 1 + 1 hours; 1200/h for the second family's one child.
    assert sum(invoice.amount for invoice in invoices) == Decimal("4.5") * (2 * 1000 + 1200)
