"""PostgreSQL only, heavy: pay / cancel / overdue / webhook on one invoice from many threads at once.

A hypothesis state machine drives one invoice per run through races: each rule releases 2-6 real threads together
(a barrier; each thread its own database connection and API client) doing a drawn mix of

- `pay`: the parent starts a payment (POST /pay/), pays it on the provider's page (the fake provider on 127.0.0.1
  moves it to waiting for capture) and the provider notifies us (POST to the webhook);
- `cancel`: the tutor cancels (POST /cancel/);
- `overdue_read`: the tutor reads the invoice (GET; a read after the due date marks it overdue);
- `overdue_job`: the daily overdue sweep, as the worker runs it;
- `webhook`: the provider delivers its last notification again (a replay),

and between races time passes (the due date goes by) or a started payment expires at the provider. After every
race the invariants are checked against the database and the provider: exactly one winner per conflicting
transition, the losers answered 409 with the JSON error and the status they lost to, a history that chains legal
transitions from draft to the current status, money taken at most once and never for a cancelled invoice, no
request left waiting on a lock, and no answer outside the documented ones (no 500).

At least RACES_WANTED races in total; the figures are printed.
"""

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.test import APIClient

from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory, Payment, PaymentStatus
from invoices.services import TRANSITIONS, invoices_mark_overdue
from tests.conftest import client_for
from tests.invoices.fakes import notification
from tests.invoices.helpers import invoice_in

pytestmark = [pytest.mark.postgres, pytest.mark.heavy, pytest.mark.django_db(transaction=True)]
S = InvoiceStatus
WEBHOOK = "/api/invoices/payments/webhook/"
ACTIONS = ("pay", "cancel", "overdue_read", "overdue_job", "webhook")
CANCELLABLE = (S.DRAFT, S.SENT, S.VIEWED, S.OVERDUE)
RACES_WANTED = 200
JOIN_SECONDS = 60
OUTCOMES = ("cancel_wins", "paid", "released", "losers_409")


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and real concurrent transactions")


def _deferred(code, body) -> bool:
    return code == 503 and body.get("code") == "payment_check_deferred"


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert isinstance(body.get("detail"), str) and isinstance(body.get("code"), str), body
    return body


class InvoiceRaces(RuleBasedStateMachine):
    """One invoice per run; `provider` and `totals` are set by the test."""

    provider = None
    totals: Counter = Counter()

    @initialize(start=st.sampled_from([S.DRAFT, S.SENT, S.VIEWED, S.OVERDUE]))
    def an_invoice(self, start):
        self.invoice = invoice_in(start, amount=Decimal("1500.00"))
        self.tutor, self.parent = client_for(self.invoice.tutor), client_for(self.invoice.parent)
        self.cancel_wins = 0
        self.paid_outcomes = 0
        self.payment_ids: list[str] = []  # provider ids of this invoice's payments, oldest first
        self.clock_offset = timedelta(0)  # how far redeliveries have moved the clock (claims are timestamps)

    # --- between races -----------------------------------------------------------------------------------
    @precondition(lambda self: self.invoice.due_date >= timezone.localdate())
    @rule()
    def due_date_passes(self):
        Invoice.objects.filter(pk=self.invoice.pk).update(due_date=timezone.localdate() - timedelta(days=1))
        self.invoice.refresh_from_db()

    @precondition(lambda self: bool(self.payment_ids))
    @rule()
    def started_payment_expires(self):
        payment = self.provider.payments[self.payment_ids[-1]]
        if payment["status"] == "pending":
            self.provider.cancel(payment["id"])

    # --- the race ------------------------------------------------------------------------------------------
    @rule(actions=st.lists(st.sampled_from(ACTIONS), min_size=2, max_size=6))
    def race(self, actions):
        before = Invoice.objects.get(pk=self.invoice.pk).status
        count = len(actions)
        barrier = threading.Barrier(count)
        outcomes: list = [None] * count
        errors: list = []
        # Clients are made here (a token each), not in the threads: the threads only race.
        parents = [client_for(self.invoice.parent) for _ in actions]
        tutors = [client_for(self.invoice.tutor) for _ in actions]
        replay = self.payment_ids[-1] if self.payment_ids else None

        def run(i):
            try:
                barrier.wait(timeout=30)
                outcomes[i] = self._act(actions[i], parents[i], tutors[i], replay)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append((actions[i], repr(error)))
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=JOIN_SECONDS)
        assert not any(thread.is_alive() for thread in threads), f"deadlock: a thread still runs {actions}"
        assert not errors, errors
        self._redeliver_deferred(outcomes, replay)
        self.totals["races"] += 1
        self.totals["open_races"] += before not in (S.PAID, S.CANCELLED)
        self.totals["requests"] += count
        for action in actions:
            self.totals[action] += 1
        self._judge(before, actions, outcomes)

    def _act(self, action, parent: APIClient, tutor: APIClient, replay: str | None):
        invoice_id = self.invoice.pk
        if action == "pay":
            response = parent.post(f"/api/invoices/{invoice_id}/pay/")
            if response.status_code != 200:
                return ("pay", response.status_code, _error(response), None)
            payment_id = response.json()["confirmation_url"].rsplit("/", 1)[-1]
            self.provider.authorize(payment_id)  # the parent confirms the payment on the provider's page
            hook = APIClient().post(WEBHOOK, notification(payment_id, "payment.waiting_for_capture"), format="json")
            return ("pay", 200, payment_id, (hook.status_code, hook.json()))
        if action == "cancel":
            response = tutor.post(f"/api/invoices/{invoice_id}/cancel/", {"reason": "race"}, format="json")
            return ("cancel", response.status_code, _error(response) if response.status_code != 200 else None)
        if action == "overdue_read":
            response = tutor.get(f"/api/invoices/{invoice_id}/")
            return ("overdue_read", response.status_code, response.json())
        if action == "overdue_job":
            return ("overdue_job", 200, invoices_mark_overdue())
        assert action == "webhook"
        if replay is None:
            return ("webhook", None, None)
        hook = APIClient().post(WEBHOOK, notification(replay), format="json")
        return ("webhook", hook.status_code, hook.json())

    def _redeliver_deferred(self, outcomes, replay):
        """A notification answered 503 `payment_check_deferred` (a concurrent delivery held this payment's provider
        read) is delivered again by the provider once the read interval has passed: replayed here, in order, with
        the clock moved past the interval, and judged by the answer to the redelivery."""
        interval = timedelta(seconds=self.interval_seconds)
        for i, outcome in enumerate(outcomes):
            kind = outcome[0]
            if kind == "pay" and outcome[1] == 200 and _deferred(*outcome[3]):
                event = notification(outcome[2], "payment.waiting_for_capture")
            elif kind == "webhook" and _deferred(outcome[1], outcome[2]):
                event = notification(replay)
            else:
                continue
            self.totals["deferred"] += 1
            self.clock_offset += interval
            with time_machine.travel(timezone.now() + self.clock_offset, tick=True):
                hook = APIClient().post(WEBHOOK, event, format="json")
            answer = (hook.status_code, hook.json())
            outcomes[i] = (*outcome[:3], answer) if kind == "pay" else ("webhook", *answer)

    def _judge(self, before, actions, outcomes):
        invoice = Invoice.objects.get(pk=self.invoice.pk)
        cancels = [o for o in outcomes if o[0] == "cancel"]
        won = [o for o in cancels if o[1] == 200]
        paid_now = 0
        for outcome in outcomes:
            kind, code = outcome[0], outcome[1]
            if kind == "pay":
                if code == 200:
                    payment_id, (hook_code, hook_body) = outcome[2], outcome[3]
                    if payment_id not in self.payment_ids:
                        self.payment_ids.append(payment_id)
                    assert hook_code == 200, (hook_code, hook_body)
                    paid_now += hook_body.get("status") == "paid"
                    self.totals["released"] += hook_body.get("status") == "released"
                else:
                    assert code == 409, outcome
                    assert outcome[2]["code"] in ("illegal_transition", "payment_in_progress"), outcome
            elif kind == "webhook":
                assert code in (None, 200), outcome
                if code == 200:
                    paid_now += outcome[2].get("status") == "paid"
            elif kind == "cancel":
                assert code in (200, 409), outcome
                if code == 409:
                    body = outcome[2]
                    assert body["code"] == "illegal_transition", body
                    assert body["status"] in (S.CANCELLED, S.PAID), body  # lost to the winner, not to a phantom
            else:
                assert code == 200, outcome
        # Exactly one winner of the terminal transitions: a cancel or a payment, never both, never two.
        assert len(won) <= 1, outcomes
        assert len(won) + paid_now <= 1, outcomes
        if cancels and before in CANCELLABLE:
            assert len(won) + paid_now == 1, (before, outcomes)
        self.cancel_wins += len(won)
        self.paid_outcomes += paid_now
        assert self.cancel_wins + self.paid_outcomes <= 1
        assert (invoice.status == S.CANCELLED) == (self.cancel_wins == 1), (invoice.status, outcomes)
        assert (invoice.status == S.PAID) == (self.paid_outcomes == 1), (invoice.status, outcomes)
        self.totals["cancel_wins"] += len(won)
        self.totals["paid"] += paid_now
        self.totals["losers_409"] += sum(1 for o in outcomes if o[1] == 409)

    # --- invariants (after every step) -----------------------------------------------------------------
    @invariant()
    def history_chains_legal_transitions(self):
        if not hasattr(self, "invoice"):
            return
        invoice = Invoice.objects.get(pk=self.invoice.pk)
        rows = list(InvoiceStatusHistory.objects.filter(invoice=invoice).order_by("changed_at", "id"))
        status = S.DRAFT
        for row in rows:
            assert row.old_status == status, [(r.old_status, r.new_status) for r in rows]
            assert row.new_status in TRANSITIONS[row.old_status], (row.old_status, row.new_status)
            status = row.new_status
        assert status == invoice.status, (status, invoice.status)

    @invariant()
    def money_is_taken_once_and_never_for_a_cancelled_invoice(self):
        if not hasattr(self, "invoice"):
            return
        invoice = Invoice.objects.get(pk=self.invoice.pk)
        with self.provider.lock:
            mine = [p for p in self.provider.payments.values() if p["metadata"].get("invoice_id") == str(invoice.pk)]
            taken = [p for p in mine if p["status"] == "succeeded"]
            held = [p for p in mine if p["status"] == "waiting_for_capture"]
        assert sum(Decimal(p["amount"]["value"]) for p in taken) <= invoice.amount, taken
        assert len(taken) <= 1, taken
        succeeded = Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED)
        if invoice.status == S.PAID:
            assert len(taken) == 1 and succeeded.count() == 1, (taken, list(succeeded.values()))
            assert invoice.payment_id == succeeded.get().pk
            assert succeeded.get().amount == invoice.amount
        else:
            assert not taken and not succeeded.exists(), (invoice.status, taken)
        if invoice.status == S.CANCELLED:
            assert not held, held  # a hold on the parent's money is released, never captured

    @invariant()
    def nobody_waits_on_a_lock(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            assert cursor.fetchone()[0] == 0


def test_pay_cancel_overdue_and_webhook_races_on_one_invoice(fake_provider, settings):
    # Many requests of one parent and one tutor: the per-user limits are not what is tested here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {scope: "1000000/min" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
    }
    # The fixture's 0.5 s provider timeout tests timeouts; here a busy machine must not turn a slow answer into a 502.
    settings.PAYMENT_TIMEOUT_SECONDS = settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS = 10
    InvoiceRaces.provider = fake_provider
    InvoiceRaces.interval_seconds = max(
        settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS, settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS
    )
    InvoiceRaces.totals = Counter()
    runs = 0
    # Hypothesis draws how many steps a run takes: runs go on until enough races were run (each run a new invoice).
    while InvoiceRaces.totals["races"] < RACES_WANTED:
        runs += 1
        run_state_machine_as_test(
            InvoiceRaces,
            settings=hypothesis_settings(
                max_examples=10,
                stateful_step_count=6,  # short runs: more invoices, more races while they are open
                deadline=None,
                database=None,
                phases=[Phase.generate],  # a race does not replay exactly: shrinking would chase ghosts
                suppress_health_check=list(HealthCheck),
            ),
        )
    totals = InvoiceRaces.totals
    print(  # figures, not assertions
        f"\n{totals['races']} races in {runs} hypothesis runs, {totals['requests']} racing requests: "
        + ", ".join(
            f"{name} {totals[name]}"
            for name in ("open_races", *ACTIONS, "cancel_wins", "paid", "released", "losers_409", "deferred")
        )
    )
    assert totals["races"] >= RACES_WANTED
    assert totals["cancel_wins"] > 0 and totals["paid"] > 0 and totals["losers_409"] > 0  # the races did conflict
