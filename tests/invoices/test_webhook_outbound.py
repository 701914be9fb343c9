"""The anonymous payment webhook cannot drive outbound traffic: the fake provider (tests/invoices/fakes.py, a real
HTTP server on 127.0.0.1) counts every call it gets.

Before: every POST made one provider read, also with payments off (300 POSTs, 300 calls, each able to hold a thread
for PAYMENT_TIMEOUT_SECONDS). Now: no read while payments are off, none for an id that names no payment of ours that
can still change, at most one per payment and PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS (a conditional UPDATE, so
across processes) with its own short timeout, and a per-address rate.
"""

import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from invoices.models import Invoice, InvoiceStatus, Payment
from tests.invoices.fakes import notification
from tests.invoices.helpers import invoice_in
from tests.parallel import at_once, live_server_url

S = InvoiceStatus
WEBHOOK = "/api/invoices/payments/webhook/"


def _rate(settings, rate: str) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "payment_webhook": rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def _started(make_client, fake_provider) -> tuple[Invoice, Payment]:
    invoice = invoice_in(S.VIEWED)
    assert make_client(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/").status_code == 200
    return invoice, Payment.objects.get(invoice=invoice)


def _reads(fake_provider) -> list[dict]:
    return [call for call in fake_provider.requests if call["method"] == "GET"]


@pytest.mark.django_db
def test_with_payments_off_300_posts_call_nobody_and_are_not_parsed(api_client, fake_provider, settings):
    settings.PAYMENT_SHOP_ID = ""
    _rate(settings, "1000/min")
    answers = [api_client.post(WEBHOOK, notification(f"pay-{n}"), format="json") for n in range(299)]
    # Not even parsed: a malformed body gets the same answer.
    answers.append(api_client.post(WEBHOOK, '{"object": ', content_type="application/json"))
    assert {(answer.status_code, answer.json()["code"]) for answer in answers} == {(503, "payments_not_configured")}
    print(f"\npayments off: {len(answers)} POSTs, {len(fake_provider.requests)} provider calls")
    assert fake_provider.requests == []


@pytest.mark.django_db
def test_300_posts_of_ids_we_do_not_hold_call_nobody(make_client, api_client, fake_provider, settings):
    _rate(settings, "1000/min")
    _, payment = _started(make_client, fake_provider)
    fake_provider.succeed(payment.provider_payment_id)
    assert api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json").json() == {
        "status": "paid"
    }
    calls = len(fake_provider.requests)
    unknown = [
        api_client.post(WEBHOOK, notification(f"pay-{uuid.uuid4().hex[:12]}"), format="json") for _ in range(250)
    ]
    # A payment already succeeded is answered from our database too.
    settled = [api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json") for _ in range(50)]
    assert {(answer.status_code, answer.json()["status"]) for answer in unknown} == {(200, "unknown")}
    assert {(answer.status_code, answer.json()["status"]) for answer in settled} == {(200, "duplicate")}
    print(f"\nunknown or settled ids: 300 POSTs, {len(fake_provider.requests) - calls} provider calls")
    assert len(fake_provider.requests) == calls


@pytest.mark.django_db(transaction=True)
def test_300_parallel_posts_for_one_pending_payment_make_one_read_and_the_genuine_one_pays(
    make_client, fake_provider, settings, time_machine
):
    _rate(settings, "1000/min")
    settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS = 3600  # the bound must not depend on how fast the burst runs
    fake_provider.delay = 0.2  # each read is in flight while the others arrive
    invoice, payment = _started(make_client, fake_provider)
    body = notification(payment.provider_payment_id)

    with live_server_url() as url:

        def client_run() -> list[httpx.Response]:
            with httpx.Client(base_url=url, timeout=120) as client:
                return [client.post(WEBHOOK, json=body) for _ in range(10)]

        answers = [answer for run in at_once(30, client_run) for answer in run]

    outcomes = sorted((answer.status_code, answer.json().get("status") or answer.json()["code"]) for answer in answers)
    print(f"\none pending payment: {len(answers)} parallel POSTs, {len(_reads(fake_provider))} provider reads")
    assert len(_reads(fake_provider)) == 1
    assert outcomes == [(200, "recorded")] + [(503, "payment_check_deferred")] * 299
    assert {answer.headers["Retry-After"] for answer in answers if answer.status_code == 503} == {"3600"}
    assert Invoice.objects.get(pk=invoice.pk).status == S.VIEWED

    # The provider's genuine notification, redelivered after the interval: one more read, and the invoice is paid.
    fake_provider.delay = 0
    fake_provider.succeed(payment.provider_payment_id)
    time_machine.move_to(timezone.now() + timedelta(seconds=3601))
    with live_server_url() as url:
        paid = httpx.post(url + WEBHOOK, json=body, timeout=30)
    assert (paid.status_code, paid.json()) == (200, {"status": "paid"})
    assert len(_reads(fake_provider)) == 2
    assert Invoice.objects.get(pk=invoice.pk).status == S.PAID


@pytest.mark.django_db
def test_the_webhook_read_has_its_own_short_timeout(make_client, api_client, fake_provider, settings):
    _, payment = _started(make_client, fake_provider)
    settings.PAYMENT_TIMEOUT_SECONDS = 30  # the create's timeout does not apply to the webhook's read
    settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS = 0.2
    fake_provider.delay = 1.0
    response = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")


def test_the_defaults_keep_a_read_short_and_one_at_a_time(settings):
    assert settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS < settings.PAYMENT_TIMEOUT_SECONDS
    assert settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS >= settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS


@pytest.mark.django_db
def test_the_webhook_is_throttled_per_address(api_client, fake_provider, settings):
    _rate(settings, "5/min")
    statuses = [api_client.post(WEBHOOK, notification(f"pay-{n}"), format="json").status_code for n in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    throttled = api_client.post(WEBHOOK, notification("pay-x"), format="json")
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) >= 1
    assert fake_provider.requests == []
