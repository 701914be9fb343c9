"""Who may do what: the tutor their own invoices, the parent theirs, the admin all; students and teachers
nothing (403 on every invoice endpoint); a foreign invoice is 404, exactly like a missing one."""

import pytest

from invoices.models import Invoice, InvoiceStatus
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TeacherFactory, TutorFactory
from tests.invoices.factories import InvoiceFactory
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db
S = InvoiceStatus


def _ids(client, path="/api/invoices/"):
    return {row["id"] for row in client.get(path).json()["results"]}


def test_lists_by_role(make_client):
    mine = InvoiceFactory()
    other = InvoiceFactory()
    assert _ids(make_client(mine.tutor)) == {mine.pk}
    assert _ids(make_client(mine.parent)) == {mine.pk}
    assert _ids(make_client(AdminFactory())) == {mine.pk, other.pk}


@pytest.mark.parametrize("factory", [StudentFactory, TeacherFactory])
def test_students_and_teachers_get_403_everywhere(make_client, factory, api_client):
    invoice = InvoiceFactory()
    user = factory()
    if factory is StudentFactory:
        user = invoice.student  # even the billed student
    client = make_client(user)
    for method, path in [
        ("get", "/api/invoices/"),
        ("get", "/api/invoices/summary/"),
        ("post", "/api/invoices/"),
        ("get", f"/api/invoices/{invoice.pk}/"),
        ("patch", f"/api/invoices/{invoice.pk}/"),
        ("get", f"/api/invoices/{invoice.pk}/history/"),
        ("post", f"/api/invoices/{invoice.pk}/send/"),
        ("post", f"/api/invoices/{invoice.pk}/cancel/"),
        ("post", f"/api/invoices/{invoice.pk}/pay/"),
    ]:
        response = getattr(client, method)(path, {})
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"
    assert Invoice.objects.get(pk=invoice.pk).status == S.DRAFT


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/invoices/").status_code == 401
    assert api_client.post("/api/profile/me/telegram/").status_code == 401


def test_foreign_invoice_is_404_like_a_missing_one(make_client):
    invoice = invoice_in(S.SENT)
    for user in (TutorFactory(), ParentFactory()):
        client = make_client(user)
        for method, path in [
            ("get", f"/api/invoices/{invoice.pk}/"),
            ("patch", f"/api/invoices/{invoice.pk}/"),
            ("get", f"/api/invoices/{invoice.pk}/history/"),
            ("post", f"/api/invoices/{invoice.pk}/cancel/"),
            ("post", f"/api/invoices/{invoice.pk}/pay/"),
        ]:
            foreign = getattr(client, method)(path, {})
            missing = getattr(client, method)(path.replace(str(invoice.pk), "987654"), {})
            assert foreign.status_code == missing.status_code == 404
            assert foreign.json() == missing.json()
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT


def test_only_tutors_create(make_client):
    invoice = InvoiceFactory()
    data = {"student": invoice.student.pk, "amount": "10", "due_date": "2099-01-01"}
    assert make_client(invoice.parent).post("/api/invoices/", data).status_code == 403
    assert make_client(AdminFactory()).post("/api/invoices/", data).status_code == 403
    assert make_client(invoice.tutor).post("/api/invoices/", data).status_code == 201


def test_parent_cannot_edit_send_or_cancel(make_client):
    invoice = InvoiceFactory()
    client = make_client(invoice.parent)
    assert client.patch(f"/api/invoices/{invoice.pk}/", {"amount": "1"}).status_code == 403
    assert client.post(f"/api/invoices/{invoice.pk}/send/").status_code == 403
    assert client.post(f"/api/invoices/{invoice.pk}/cancel/").status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).status == S.DRAFT


def test_tutor_cannot_pay_and_admin_manages(make_client):
    invoice = InvoiceFactory()
    admin = make_client(AdminFactory())
    assert admin.patch(f"/api/invoices/{invoice.pk}/", {"amount": "5"}).json()["amount"] == "5.00"
    assert admin.post(f"/api/invoices/{invoice.pk}/send/").json()["status"] == "sent"
    tutor = make_client(invoice.tutor)
    response = tutor.post(f"/api/invoices/{invoice.pk}/pay/")
    assert (response.status_code, response.json()["code"]) == (403, "not_allowed")
    assert admin.post(f"/api/invoices/{invoice.pk}/pay/").status_code == 403
    assert admin.post(f"/api/invoices/{invoice.pk}/cancel/").json()["status"] == "cancelled"
