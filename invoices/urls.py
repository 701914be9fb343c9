"""Included at `api/`: invoices, the payment and Telegram webhooks, and the caller's Telegram link."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from invoices import views

router = SimpleRouter(use_regex_path=False)
router.register("invoices", views.InvoiceViewSet, basename="invoices")

urlpatterns = [
    path("invoices/payments/webhook/", views.PaymentWebhookView.as_view(), name="invoices-payment-webhook"),
    path("telegram/webhook/", views.TelegramWebhookView.as_view(), name="telegram-webhook"),
    path("profile/me/telegram/", views.TelegramLinkView.as_view(), name="profile-telegram"),
    *router.urls,
]
