"""Overdue: the daily job, the management command and the read path move sent/viewed invoices past due, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from invoices import services
from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory
from invoices.tasks import PERIODIC_JOBS, invoices_mark_overdue_job
from jobs.scheduler import schedule_due
from tests.invoices.factories import make_past_due
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db
S = InvoiceStatus


def _world():
    due = {status: make_past_due(invoice_in(status)) for status in S.values}
    not_due = {status: invoice_in(status) for status in (S.SENT, S.VIEWED)}
    return due, not_due


def test_job_moves_past_due_sent_and_viewed_once_with_system_history():
    due, not_due = _world()
    assert services.invoices_mark_overdue() == 2
    statuses = dict(Invoice.objects.values_list("pk", "status"))
    for status, invoice in due.items():
        expected = S.OVERDUE if status in (S.SENT, S.VIEWED) else status
        assert statuses[invoice.pk] == expected
    for invoice in not_due.values():
        assert statuses[invoice.pk] == invoice.status
    rows = InvoiceStatusHistory.objects.filter(new_status=S.OVERDUE, reason="past due date")
    # invoice_in(OVERDUE) made one row itself; the job made exactly two more
    assert rows.count() == 3
    assert set(rows.values_list("changed_by", flat=True)) == {None}

    assert services.invoices_mark_overdue() == 0
    assert rows.count() == 3
    assert dict(Invoice.objects.values_list("pk", "status")) == statuses


def test_job_processes_in_batches():
    invoices = [make_past_due(invoice_in(S.SENT)) for _ in range(5)]
    assert services.invoices_mark_overdue(batch_size=2) == 5
    assert set(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("status", flat=True)) == {S.OVERDUE}


def test_management_command_is_idempotent():
    make_past_due(invoice_in(S.VIEWED))
    out = StringIO()
    call_command("mark_overdue_invoices", stdout=out)
    call_command("mark_overdue_invoices", stdout=out)
    assert out.getvalue().splitlines() == ["1 invoice(s) marked overdue.", "0 invoice(s) marked overdue."]
    assert InvoiceStatusHistory.objects.filter(new_status=S.OVERDUE).count() == 1


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_daily_job_is_scheduled_once_per_day_and_runs_in_the_worker():
    assert PERIODIC_JOBS["invoices_mark_overdue"] == {"task": invoices_mark_overdue_job, "every": 86400}
    invoice = make_past_due(invoice_in(S.SENT))
    now = 1_700_000_000.0
    assert "invoices_mark_overdue" in schedule_due(now)
    assert "invoices_mark_overdue" not in schedule_due(now + 3600)  # same day: same slot
    call_command("run_worker", batch=True, no_scheduler=True)
    invoice.refresh_from_db()
    assert invoice.status == S.OVERDUE


def test_read_path_marks_overdue(make_client):
    listed = make_past_due(invoice_in(S.SENT))
    opened = make_past_due(invoice_in(S.VIEWED, tutor=listed.tutor))
    client = make_client(listed.tutor)
    assert client.get(f"/api/invoices/{opened.pk}/").json()["status"] == S.OVERDUE
    body = client.get("/api/invoices/").json()
    assert {row["id"]: row["status"] for row in body["results"]} == {listed.pk: S.OVERDUE, opened.pk: S.OVERDUE}
    assert InvoiceStatusHistory.objects.filter(new_status=S.OVERDUE).count() == 2
    client.get("/api/invoices/")
    assert InvoiceStatusHistory.objects.filter(new_status=S.OVERDUE).count() == 2


def test_parent_opening_a_past_due_sent_invoice_sees_it_overdue(make_client):
    invoice = make_past_due(invoice_in(S.SENT))
    body = make_client(invoice.parent).get(f"/api/invoices/{invoice.pk}/").json()
    assert (body["status"], body["viewed_at"]) == (S.OVERDUE, None)
