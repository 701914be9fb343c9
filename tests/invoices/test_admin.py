"""Django admin: the history inline, filters, and actions that go through the services."""

import pytest
from django.test import Client

from invoices.models import Invoice, InvoiceStatus
from tests.accounts.factories import AdminFactory
from tests.invoices.factories import InvoiceFactory, make_past_due
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db
S = InvoiceStatus


@pytest.fixture
def admin_client_logged_in():
    superuser = AdminFactory(email="root@example.test", password="x-pass-12345")
    client = Client()
    client.force_login(superuser)
    client.user = superuser
    return client


def test_changelist_filters_and_change_page_with_history(admin_client_logged_in):
    invoice = invoice_in(S.VIEWED)
    response = admin_client_logged_in.get("/admin/invoices/invoice/?status__exact=viewed")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    page = admin_client_logged_in.get(f"/admin/invoices/invoice/{invoice.pk}/change/")
    assert page.status_code == 200
    inline = page.context["inline_admin_formsets"][0]
    assert inline.formset.queryset.count() == 2


def test_send_action_goes_through_the_service(admin_client_logged_in):
    draft, cancelled = InvoiceFactory(), invoice_in(S.CANCELLED)
    response = admin_client_logged_in.post(
        "/admin/invoices/invoice/",
        {"action": "send_invoices", "_selected_action": [draft.pk, cancelled.pk]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("1 invoice(s) sent; 1 skipped." in m for m in messages)
    assert Invoice.objects.get(pk=draft.pk).status == S.SENT
    assert Invoice.objects.get(pk=cancelled.pk).status == S.CANCELLED
    row = Invoice.objects.get(pk=draft.pk).history.get()
    assert (row.new_status, row.changed_by) == (S.SENT, admin_client_logged_in.user)


def test_mark_overdue_action_only_moves_past_due_invoices(admin_client_logged_in):
    due, not_due = make_past_due(invoice_in(S.SENT)), invoice_in(S.SENT)
    admin_client_logged_in.post(
        "/admin/invoices/invoice/", {"action": "mark_overdue", "_selected_action": [due.pk, not_due.pk]}
    )
    assert Invoice.objects.get(pk=due.pk).status == S.OVERDUE
    assert Invoice.objects.get(pk=not_due.pk).status == S.SENT
    assert Invoice.objects.get(pk=due.pk).history.get(new_status=S.OVERDUE).changed_by == admin_client_logged_in.user


def test_status_is_not_editable_in_the_admin(admin_client_logged_in):
    invoice = InvoiceFactory()
    admin_client_logged_in.post(f"/admin/invoices/invoice/{invoice.pk}/change/", {"status": "paid"})
    assert Invoice.objects.get(pk=invoice.pk).status == S.DRAFT
    assert admin_client_logged_in.get("/admin/invoices/invoice/add/").status_code == 403
