"""Token sessions: django-rest-knox stores only a hash of each token, with an expiry, per device."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User
from core import caching


def token_issue(*, user: User, request=None) -> tuple[str, datetime]:
    """A new token for `user`; the clear value is returned once and never stored."""
    instance, token = AuthToken.objects.create(user=user, expiry=settings.TOKEN_TTL)
    user_logged_in.send(sender=User, request=request, user=user)
    caching.invalidate(caching.user_scope(user.pk))  # last_login, which profile/me shows
    return token, instance.expiry


def revoke(token: AuthToken) -> None:
    token.delete()


def revoke_all(user: User, keep: str | None = None) -> int:
    """Revoke every token of `user`, except the one whose digest is `keep`."""
    tokens = AuthToken.objects.filter(user=user)
    if keep:
        tokens = tokens.exclude(digest=keep)
    deleted, _ = tokens.delete()
    return deleted


def prune_expired() -> int:
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
