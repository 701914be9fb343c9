"""Lists cost a fixed number of queries, whatever their length."""

import pytest

from invoices.models import InvoiceStatus
from tests.accounts.factories import AdminFactory
from tests.invoices.factories import InvoiceFactory
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db
# token auth (the token with its user) + overdue check + count + page
LIST_QUERIES = 4


def _count_queries(client, path, django_assert_num_queries, n):
    with django_assert_num_queries(n):
        response = client.get(path)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("role", ["tutor", "parent", "admin"])
def test_list_queries_do_not_grow(make_client, django_assert_num_queries, role):
    first = InvoiceFactory()
    user = AdminFactory() if role == "admin" else getattr(first, role)
    client = make_client(user)
    assert len(_count_queries(client, "/api/invoices/", django_assert_num_queries, LIST_QUERIES)["results"]) == 1
    for _ in range(14):
        InvoiceFactory(tutor=first.tutor, parent=first.parent)
    body = _count_queries(client, "/api/invoices/?page_size=100", django_assert_num_queries, LIST_QUERIES)
    assert len(body["results"]) == 15


def test_history_and_summary_queries_do_not_grow(make_client, django_assert_num_queries):
    invoice = invoice_in(InvoiceStatus.SENT)
    client = make_client(invoice.tutor)
    # auth + invoice + count + page
    _count_queries(client, f"/api/invoices/{invoice.pk}/history/", django_assert_num_queries, 4)
    # auth + overdue check + aggregate
    _count_queries(client, "/api/invoices/summary/", django_assert_num_queries, 3)
    for _ in range(5):
        client.post(f"/api/invoices/{invoice.pk}/cancel/")  # only the first succeeds
        InvoiceFactory(tutor=invoice.tutor, parent=invoice.parent)
    invoice2 = invoice_in(InvoiceStatus.VIEWED, tutor=invoice.tutor, parent=invoice.parent)
    body = _count_queries(client, f"/api/invoices/{invoice2.pk}/history/", django_assert_num_queries, 4)
    assert body["count"] == 2
    _count_queries(client, "/api/invoices/summary/", django_assert_num_queries, 3)
