"""Telegram link codes: the one-time deep links that bind a user's Telegram chat to their account."""

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
