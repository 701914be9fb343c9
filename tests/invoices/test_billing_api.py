"""Billing through the API: a month of lessons of two children of one parent, billed, sent and paid."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from invoices.models import Invoice, InvoiceStatus, Payment
from scheduling.models import LessonStatus
from tests.accounts.factories import AdminFactory
from tests.invoices.factories import at, family, lesson
from tests.invoices.fakes import notification

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/invoices/payments/webhook/"
OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def test_a_month_billed_sent_and_paid(make_client, api_client, fake_provider):
    world = family(price="900.00")
    admin = make_client(AdminFactory())
    with time_machine.travel("2026-09-20 09:00Z", tick=False):
        rate = {"teacher": world.teacher.pk, "subject": world.subject.pk, "price_per_hour": "1000.00"}
        assert admin.post("/api/billing/rates/", {**rate, "valid_from": "2026-10-01"}).status_code == 201
        a, b = world.enrollments
        # Four weekly lessons each in October (scheduled, as the timetable made them).
        lessons = {
            kid: [lesson(e, at(day, 15 + i), status=LessonStatus.SCHEDULED) for day in (5, 12, 19, 26)]
            for i, (kid, e) in enumerate((("a", a), ("b", b)))
        }
    teacher, student_b = make_client(world.teacher), make_client(world.kids[1])
    late, by_teacher = lessons["b"][1], lessons["a"][3]
    with time_machine.travel(late.start - timedelta(hours=3), tick=False):
        response = student_b.post(f"/api/scheduling/lessons/{late.pk}/cancel/", {"reason": "ill"})
        assert response.json()["code"] == "cancel_too_late"
        response = student_b.post(
            f"/api/scheduling/lessons/{late.pk}/cancel/", {"reason": "ill", "accept_charge": True}, format="json"
        )
        assert response.status_code == 200, response.json()
    with time_machine.travel(by_teacher.start - timedelta(hours=1), tick=False):
        assert teacher.post(f"/api/scheduling/lessons/{by_teacher.pk}/cancel/", {"reason": "sick"}).status_code == 200
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        for each in [*lessons["a"][:3], lessons["b"][0], lessons["b"][2]]:
            assert teacher.post(f"/api/scheduling/lessons/{each.pk}/complete/").status_code == 200
        tutor = make_client(world.tutor)
        states = tutor.get("/api/billing/lessons/", {"from": "2026-10-01T00:00:00Z"}).json()["results"]
        assert sorted(s["billing"]["state"] for s in states) == ["billable"] * 6 + ["not_billable"] * 2
        preview = tutor.post("/api/billing/preview/", OCTOBER, format="json").json()
        assert [p["total"] for p in preview["invoices"]] == ["6000.00"]
        assert not Invoice.objects.exists()
        response = tutor.post("/api/billing/runs/", OCTOBER, format="json")
        assert response.status_code == 201, response.json()
        [invoice_id] = response.json()["invoices"]
        assert tutor.post("/api/billing/runs/", OCTOBER, format="json").json()["lines_added"] == 0
        lines = tutor.get(f"/api/invoices/{invoice_id}/lines/").json()["results"]
        assert [(line["kind"], line["amount"]) for line in lines] == [
            ("lesson", "1000.00"),
            ("lesson", "1000.00"),
            ("lesson", "1000.00"),
            ("late_cancellation", "1000.00"),
            ("lesson", "1000.00"),
            ("lesson", "1000.00"),
        ]
        assert "late cancellation" in lines[3]["description"]
        invoice = tutor.get(f"/api/invoices/{invoice_id}/").json()
        assert (invoice["amount"], invoice["status"], invoice["parent"]["id"]) == ("6000.00", "draft", world.parent.pk)
        states = tutor.get("/api/billing/lessons/", {"from": "2026-10-01T00:00:00Z"}).json()["results"]
        assert sorted(s["billing"]["state"] for s in states) == ["invoiced"] * 6 + ["not_billable"] * 2
        assert tutor.post(f"/api/invoices/{invoice_id}/send/").status_code == 200
        parent = make_client(world.parent)
        assert parent.post(f"/api/invoices/{invoice_id}/pay/").status_code == 200
        payment = Payment.objects.get()
        assert payment.amount == Decimal("6000.00")
        fake_provider.succeed(payment.provider_payment_id)
        paid = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
        assert paid.json() == {"status": "paid"}
    assert Invoice.objects.get(pk=invoice_id).status == InvoiceStatus.PAID


def test_manual_lines_through_the_api_and_bad_input_changes_nothing(make_client):
    world = family(children=1)
    tutor = make_client(world.tutor)
    created = tutor.post(
        "/api/invoices/", {"student": world.kids[0].pk, "amount": "500.00", "due_date": "2099-01-01"}, format="json"
    ).json()
    url = f"/api/invoices/{created['id']}/lines/"
    assert len(tutor.get(url).json()["results"]) == 1
    book = tutor.post(url, {"description": "Book", "quantity": "2", "unit_price": "50.00"}, format="json")
    assert book.status_code == 201 and book.json()["amount"] == "100.00"
    too_much = tutor.post(url, {"description": "Discount", "unit_price": "-400.00"}, format="json")
    assert (too_much.status_code, too_much.json()["code"]) == (400, "discount_too_large")
    for bad in ({"description": "x", "unit_price": "abc"}, {"unit_price": "1"}, {"description": 5, "unit_price": "1"}):
        assert tutor.post(url, bad, format="json").status_code == 400
    line_url = f"{url}{book.json()['id']}/"
    assert tutor.patch(line_url, {"unit_price": "25.00"}, format="json").json()["amount"] == "50.00"
    assert tutor.get(f"/api/invoices/{created['id']}/").json()["amount"] == "550.00"
    assert tutor.delete(line_url).status_code == 204
    assert tutor.get(f"/api/invoices/{created['id']}/").json()["amount"] == "500.00"
    bad_period = tutor.post("/api/billing/runs/", {"period_start": "2026-10-02", "period_end": "2026-10-01"})
    assert (bad_period.status_code, bad_period.json()["code"]) == (400, "invalid_period")
    admin = make_client(AdminFactory())
    no_tutor = admin.post("/api/billing/preview/", OCTOBER, format="json")
    assert (no_tutor.status_code, no_tutor.json()["code"]) == (400, "not_a_tutor")


@pytest.mark.parametrize("count", [1, 7])
def test_the_lists_take_a_fixed_number_of_queries(make_client, django_assert_num_queries, count):
    world = family()
    admin_user = AdminFactory()
    admin = make_client(admin_user)
    for day in range(1, count + 1):
        lesson(world.enrollments[day % 2], at(day))
        admin.post(
            "/api/billing/rates/",
            {
                "teacher": world.teacher.pk,
                "subject": world.subject.pk,
                "price_per_hour": "10",
                "valid_from": "2026-01-01",
            },
            format="json",
        )
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        tutor = make_client(world.tutor)
        tutor.post("/api/billing/runs/", OCTOBER, format="json")
        invoice = Invoice.objects.get()
        with django_assert_num_queries(3):  # the token, count, page
            assert len(tutor.get("/api/billing/lessons/").json()["results"]) == count
        with django_assert_num_queries(4):  # the token, the invoice, count, page
            assert len(tutor.get(f"/api/invoices/{invoice.pk}/lines/").json()["results"]) == count
        with django_assert_num_queries(3):
            assert len(admin.get("/api/billing/rates/").json()["results"]) == count + 1
        with django_assert_num_queries(2):  # count, page (the admin's token is cached by now)
            admin.get("/api/billing/pay-rates/")
