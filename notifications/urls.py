"""Included at `api/`: Telegram's webhook and the caller's Telegram link."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("telegram/webhook/", views.TelegramWebhookView.as_view(), name="telegram-webhook"),
    path("profile/me/telegram/", views.TelegramLinkView.as_view(), name="profile-telegram"),
]
