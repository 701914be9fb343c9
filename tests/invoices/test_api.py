"""The invoices API contract: create, edit, lifecycle actions, history, filters, summary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from invoices.models import Invoice, InvoiceStatus
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, link_student
from tests.invoices.factories import InvoiceFactory, make_past_due
from tests.invoices.helpers import invoice_in
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db
S = InvoiceStatus
FIELDS = {
    "id",
    "tutor",
    "student",
    "parent",
    "enrollment",
    "amount",
    "currency",
    "description",
    "status",
    "due_date",
    "sent_at",
    "viewed_at",
    "paid_at",
    "created_at",
}


def _due(days=7):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_tutor_creates_a_draft_for_the_students_parent(make_client, tutor):
    parent = ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    enrollment = EnrollmentFactory(student=student, subject=SubjectFactory(name="Maths"), teacher=TeacherFactory())
    response = make_client(tutor).post(
        "/api/invoices/",
        {
            "student": student.pk,
            "amount": "1500",
            "description": "May",
            "due_date": _due(),
            "enrollment": enrollment.pk,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert (body["amount"], body["currency"], body["status"]) == ("1500.00", "RUB", "draft")
    assert (body["parent"]["id"], body["student"]["id"], body["tutor"]["id"]) == (parent.pk, student.pk, tutor.pk)
    assert body["enrollment"] == enrollment.pk


def test_create_ignores_read_only_fields(make_client, tutor):
    student = link_student(StudentFactory(), tutor=tutor, parent=ParentFactory())
    body = (
        make_client(tutor)
        .post(
            "/api/invoices/",
            {
                "student": student.pk,
                "amount": "10",
                "due_date": _due(),
                "status": "paid",
                "parent": 1,
                "currency": "USD",
            },
        )
        .json()
    )
    assert (body["status"], body["currency"], body["parent"]["id"]) == (
        "draft",
        "RUB",
        student.student_profile.parent_id,
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "100000000"}, "amount"),
        ({"due_date": "tomorrow"}, "due_date"),
        ({"student": None}, "student"),
    ],
)
def test_create_validation(make_client, tutor, payload, field):
    student = link_student(StudentFactory(), tutor=tutor, parent=ParentFactory())
    data = {"student": student.pk, "amount": "10", "due_date": _due(), **payload}
    response = make_client(tutor).post("/api/invoices/", data)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not Invoice.objects.exists()


def test_create_for_a_student_without_parent_is_400(make_client, tutor):
    student = link_student(StudentFactory(), tutor=tutor)
    response = make_client(tutor).post("/api/invoices/", {"student": student.pk, "amount": "10", "due_date": _due()})
    assert response.status_code == 400
    assert response.json()["code"] == "student_has_no_parent"


def test_create_for_someone_elses_student_is_400_like_a_missing_one(make_client, tutor):
    student = link_student(StudentFactory(), parent=ParentFactory())
    client = make_client(tutor)
    response = client.post("/api/invoices/", {"student": student.pk, "amount": "10", "due_date": _due()})
    missing = client.post("/api/invoices/", {"student": 2**62, "amount": "10", "due_date": _due()})
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert response.json() == missing.json()


def test_patch_only_while_draft(make_client):
    invoice = InvoiceFactory()
    client = make_client(invoice.tutor)
    response = client.patch(f"/api/invoices/{invoice.pk}/", {"amount": "20.00", "description": "fixed"})
    assert response.status_code == 200
    assert (response.json()["amount"], response.json()["description"]) == ("20.00", "fixed")
    client.post(f"/api/invoices/{invoice.pk}/send/")
    response = client.patch(f"/api/invoices/{invoice.pk}/", {"amount": "30.00"})
    assert (response.status_code, response.json()["code"]) == (409, "not_editable")
    assert Invoice.objects.get(pk=invoice.pk).amount == 20


def test_put_and_delete_are_not_allowed(make_client):
    invoice = InvoiceFactory()
    client = make_client(invoice.tutor)
    assert client.put(f"/api/invoices/{invoice.pk}/", {}).status_code == 405
    assert client.delete(f"/api/invoices/{invoice.pk}/").status_code == 405


def test_send_cancel_and_illegal_transition_409(make_client):
    invoice = InvoiceFactory()
    client = make_client(invoice.tutor)
    response = client.post(f"/api/invoices/{invoice.pk}/send/")
    assert response.status_code == 200
    assert response.json()["status"] == "sent" and response.json()["sent_at"]
    response = client.post(f"/api/invoices/{invoice.pk}/send/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "An invoice cannot go from 'sent' to 'sent'.",
        "code": "illegal_transition",
        "status": "sent",
    }
    response = client.post(f"/api/invoices/{invoice.pk}/cancel/", {"reason": "duplicate"})
    assert response.json()["status"] == "cancelled"
    assert client.post(f"/api/invoices/{invoice.pk}/cancel/", {}).status_code == 409


def test_parents_first_read_marks_viewed_once(make_client):
    invoice = invoice_in(S.SENT)
    parent_client = make_client(invoice.parent)
    make_client(invoice.tutor).get(f"/api/invoices/{invoice.pk}/")
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT  # the tutor's read changes nothing
    first = parent_client.get(f"/api/invoices/{invoice.pk}/").json()
    assert first["status"] == "viewed" and first["viewed_at"]
    second = parent_client.get(f"/api/invoices/{invoice.pk}/").json()
    assert second["viewed_at"] == first["viewed_at"]
    assert invoice.history.filter(new_status=S.VIEWED).count() == 1


def test_draft_is_not_marked_viewed_by_the_parent(make_client):
    invoice = InvoiceFactory()
    assert make_client(invoice.parent).get(f"/api/invoices/{invoice.pk}/").json()["status"] == "draft"


def test_history_endpoint(make_client):
    invoice = invoice_in(S.VIEWED)
    make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/cancel/", {"reason": "moved"})
    body = make_client(invoice.parent).get(f"/api/invoices/{invoice.pk}/history/").json()
    assert body["count"] == 3
    rows = body["results"]
    assert [(r["old"], r["new"]) for r in rows] == [("viewed", "cancelled"), ("sent", "viewed"), ("draft", "sent")]
    assert rows[0]["changed_by"]["id"] == invoice.tutor.pk and rows[0]["reason"] == "moved"
    assert rows[1]["changed_by"]["id"] == invoice.parent.pk
    assert set(rows[0]) == {"id", "old", "new", "changed_by", "changed_at", "reason"}


def test_history_of_system_changes_has_no_user(make_client):
    invoice = make_past_due(invoice_in(S.SENT))
    client = make_client(invoice.tutor)
    client.get("/api/invoices/")
    rows = client.get(f"/api/invoices/{invoice.pk}/history/").json()["results"]
    assert (rows[0]["new"], rows[0]["changed_by"]) == ("overdue", None)


def test_filters_search_and_ordering(make_client, tutor):
    parent = ParentFactory()
    ann = link_student(StudentFactory(first_name="Ann"), tutor=tutor, parent=parent)
    bob = link_student(StudentFactory(first_name="Bob"), tutor=tutor, parent=parent)
    today = timezone.localdate()
    a1 = InvoiceFactory(tutor=tutor, parent=parent, student=ann, due_date=today + timedelta(days=2), description="alg")
    a2 = invoice_in(S.SENT, tutor=tutor, parent=parent, student=ann, due_date=today + timedelta(days=20))
    b1 = invoice_in(S.CANCELLED, tutor=tutor, parent=parent, student=bob, due_date=today + timedelta(days=10))
    client = make_client(tutor)

    def ids(query):
        response = client.get(f"/api/invoices/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [b1.pk, a2.pk, a1.pk]
    assert ids("status=draft") == [a1.pk]
    assert set(ids("status=draft&status=sent")) == {a1.pk, a2.pk}
    assert set(ids(f"student={ann.pk}")) == {a1.pk, a2.pk}
    assert ids(f"due_before={(today + timedelta(days=5)).isoformat()}") == [a1.pk]
    assert ids(f"due_after={(today + timedelta(days=5)).isoformat()}&due_before={(today + timedelta(days=15))}") == [
        b1.pk
    ]
    assert ids("search=Bob") == [b1.pk]
    assert ids("search=alg") == [a1.pk]
    assert ids("ordering=due_date") == [a1.pk, b1.pk, a2.pk]
    assert client.get("/api/invoices/?status=nope").status_code == 400
    assert client.get("/api/invoices/?due_before=never").status_code == 400


def test_summary_totals_per_status(make_client, tutor):
    parent = ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    InvoiceFactory(tutor=tutor, parent=parent, student=student, amount="100.00")
    InvoiceFactory(tutor=tutor, parent=parent, student=student, amount="50.50")
    invoice_in(S.SENT, tutor=tutor, parent=parent, student=student, amount="10.00")
    InvoiceFactory()  # someone else's
    body = make_client(tutor).get("/api/invoices/summary/").json()
    assert body["count"] == 3
    assert set(body["by_status"]) == set(S.values)
    assert body["by_status"]["draft"] == {"count": 2, "totals": {"RUB": "150.50"}}
    assert body["by_status"]["sent"] == {"count": 1, "totals": {"RUB": "10.00"}}
    assert body["by_status"]["paid"] == {"count": 0, "totals": {}}
    filtered = make_client(tutor).get("/api/invoices/summary/?status=sent").json()
    assert filtered["count"] == 1
    assert make_client(tutor).get("/api/invoices/summary/?due_before=x").status_code == 400


def test_unknown_and_non_numeric_ids_are_404(make_client, tutor):
    client = make_client(tutor)
    assert client.get("/api/invoices/999999/").json()["code"] == "not_found"
    assert client.get("/api/invoices/abc/").status_code == 404
    assert client.post("/api/invoices/999999/send/").status_code == 404
