"""Included at `api/`: invoices and the payment webhook."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from invoices import billing_views, views

router = SimpleRouter(use_regex_path=False)
router.register("invoices", views.InvoiceViewSet, basename="invoices")

urlpatterns = [
    path("invoices/payments/webhook/", views.PaymentWebhookView.as_view(), name="invoices-payment-webhook"),
    path("invoices/<id:id>/lines/", billing_views.InvoiceLinesView.as_view(), name="invoices-lines"),
    path(
        "invoices/<id:id>/lines/<id:line_id>/",
        billing_views.InvoiceLineDetailView.as_view(),
        name="invoices-line-detail",
    ),
    path("billing/rates/", billing_views.LessonRateView.as_view(), name="billing-rates"),
    path("billing/pay-rates/", billing_views.PayRateView.as_view(), name="billing-pay-rates"),
    path("billing/preview/", billing_views.BillingPreviewView.as_view(), name="billing-preview"),
    path("billing/runs/", billing_views.BillingRunView.as_view(), name="billing-runs"),
    path("billing/lessons/", billing_views.LessonBillingView.as_view(), name="billing-lessons"),
    *router.urls,
]
