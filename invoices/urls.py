"""Included at `api/`: invoices and the payment webhook."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from invoices import views

router = SimpleRouter(use_regex_path=False)
router.register("invoices", views.InvoiceViewSet, basename="invoices")

urlpatterns = [
    path("invoices/payments/webhook/", views.PaymentWebhookView.as_view(), name="invoices-payment-webhook"),
    *router.urls,
]
