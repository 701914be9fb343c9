"""PostgreSQL only: row locks under real concurrency, and the schema's checks and partial indexes."""

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from invoices.locks import invoice_for_update
from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory, Payment
from invoices.services import invoices_mark_overdue, payment_apply_notification
from tests.conftest import client_for
from tests.invoices.factories import InvoiceFactory
from tests.invoices.fakes import notification
from tests.invoices.helpers import invoice_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
S = InvoiceStatus


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and catalog")


def _in_threads(count, work):
    """Run `work(i)` in `count` threads released together; returns their results in order."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _hold_lock(invoice_pk, release: threading.Event, held: threading.Event):
    def hold():
        try:
            with transaction.atomic():
                invoice_for_update(invoice_pk)
                held.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(timeout=10)
    return thread


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("action", ["send", "cancel"])
def test_two_transitions_at_once_one_wins_the_other_409(action):
    invoice = InvoiceFactory() if action == "send" else invoice_in(S.SENT)
    clients = [client_for(invoice.tutor), client_for(invoice.tutor)]
    release, held = threading.Event(), threading.Event()
    holder = _hold_lock(invoice.pk, release, held)

    def work(i):
        return clients[i].post(f"/api/invoices/{invoice.pk}/{action}/", {}, format="json").status_code

    results = []
    runner = threading.Thread(target=lambda: results.extend(_in_threads(2, work)))
    runner.start()
    deadline = time.monotonic() + 10
    while _waiting_on_locks() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _waiting_on_locks() == 2  # both requests really are inside their transactions, waiting
    release.set()
    runner.join(timeout=30)
    holder.join(timeout=10)
    assert sorted(results) == [200, 409]
    new = S.SENT if action == "send" else S.CANCELLED
    assert Invoice.objects.get(pk=invoice.pk).status == new
    assert InvoiceStatusHistory.objects.filter(invoice=invoice, new_status=new).count() == 1


def test_ten_duplicate_webhooks_at_once_pay_once(fake_provider):
    invoice = invoice_in(S.VIEWED)
    assert client_for(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/").status_code == 200
    payment = Payment.objects.get()
    fake_provider.succeed(payment.provider_payment_id)
    clients = [APIClient() for _ in range(10)]  # the provider is anonymous

    reads = len(fake_provider.requests)

    def work(i):
        response = clients[i].post(
            "/api/invoices/payments/webhook/", notification(payment.provider_payment_id), format="json"
        )
        body = response.json()
        return response.status_code, body.get("status") or body["code"]

    results = _in_threads(10, work)
    # One read of the provider pays; the others find it paid or being read (503: the provider delivers again).
    assert results.count((200, "paid")) == 1
    assert set(results) - {(200, "paid")} <= {(200, "duplicate"), (503, "payment_check_deferred")}
    assert len(fake_provider.requests) == reads + 1
    assert Payment.objects.count() == 1
    assert InvoiceStatusHistory.objects.filter(invoice=invoice, new_status=S.PAID).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).status == S.PAID


def test_concurrent_pay_clicks_make_one_payment(fake_provider):
    invoice = invoice_in(S.SENT)
    clients = [client_for(invoice.parent) for _ in range(5)]
    results = _in_threads(5, lambda i: clients[i].post(f"/api/invoices/{invoice.pk}/pay/").json())
    assert len({r["confirmation_url"] for r in results}) == 1
    assert Payment.objects.count() == 1 and len(fake_provider.payments) == 1
    assert InvoiceStatusHistory.objects.filter(invoice=invoice, new_status=S.VIEWED).count() == 1


def test_overdue_sweep_and_payment_at_once_do_not_both_win(fake_provider):
    invoice = invoice_in(S.VIEWED)
    client_for(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/")
    payment = Payment.objects.get()
    fake_provider.succeed(payment.provider_payment_id)
    Invoice.objects.filter(pk=invoice.pk).update(due_date="2000-01-01")

    def work(i):
        if i == 0:
            return invoices_mark_overdue()
        return payment_apply_notification(provider_payment_id=payment.provider_payment_id, notification={})

    _in_threads(2, work)
    # Either order is legal (viewed → overdue → paid, or viewed → paid); the end is paid, once.
    assert Invoice.objects.get(pk=invoice.pk).status == S.PAID
    assert InvoiceStatusHistory.objects.filter(invoice=invoice, new_status=S.PAID).count() == 1


def test_check_constraints_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'invoices_invoice'::regclass AND contype = 'c'"
        )
        checks = dict(cursor.fetchall())
    assert "(amount > (0)::numeric)" in checks["invoice_amount_positive"]
    assert "sent_at >= created_at" in checks["invoice_sent_after_created"]
    assert "viewed_at >= sent_at" in checks["invoice_viewed_after_sent"]
    assert "paid_at >= viewed_at" in checks["invoice_paid_after_viewed"]
    assert "invoice_status_valid" in checks


def test_named_and_partial_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'invoices_invoice'")
        indexes = dict(cursor.fetchall())
    assert "(tutor_id, status)" in indexes["idx_invoice_tutor_status"]
    assert "(parent_id, status)" in indexes["idx_invoice_parent_status"]
    assert "(due_date, status)" in indexes["idx_invoice_due_status"]
    assert "(student_id, created_at DESC)" in indexes["idx_invoice_student_date"]
    assert indexes["idx_invoice_payment"].endswith("(payment_id) WHERE (payment_id IS NOT NULL)")
    assert indexes["idx_invoice_telegram"].endswith("(telegram_message_id) WHERE (telegram_message_id IS NOT NULL)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'invoices_payment' AND indexdef LIKE '%UNIQUE%'"
        )
        unique = " ".join(row[0] for row in cursor.fetchall())
    assert "(provider_payment_id)" in unique and "(idempotence_key)" in unique
