"""Included at `api/`: Telegram's webhook, the caller's Telegram link and notification settings, and the
unsubscribe link of emails."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("telegram/webhook/", views.TelegramWebhookView.as_view(), name="telegram-webhook"),
    path("profile/me/telegram/", views.TelegramLinkView.as_view(), name="profile-telegram"),
    path("profile/me/notifications/", views.NotificationSettingsView.as_view(), name="profile-notifications"),
    path("notifications/unsubscribe/", views.UnsubscribeView.as_view(), name="notifications-unsubscribe"),
]
