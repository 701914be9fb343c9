"""Telegram link codes (the one-time deep links that bind a user's Telegram chat to their account) and the
notification preferences (per user and event: Telegram and/or email)."""

from django.conf import settings
from django.db import models


class TelegramLinkCode(models.Model):
    """A one-time deep-link code binding a user's Telegram chat. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Telegram link code"
        indexes = [models.Index(fields=["expires_at"], name="idx_telegram_code_expiry")]

    def __str__(self) -> str:
        return f"Telegram link code of {self.user.full_name}, expires {self.expires_at:%Y-%m-%d %H:%M %Z}"


class NotificationPreference(models.Model):
    """How a user wants to hear of one kind of event (notifications.events.PREFERENCE_EVENTS). No row: the event's
    default. A row is written when the user changes a choice (the API, or an email's unsubscribe link)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=32)
    telegram = models.BooleanField()
    email = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="notification_pref_user_event_unique")]

    def __str__(self) -> str:
        return f"{self.event} of user {self.user_id}: telegram={self.telegram}, email={self.email}"
