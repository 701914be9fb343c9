"""The unsubscribe links of emails: a signed token (django.core.signing.TimestampSigner over the user's id and
the event, or "*" for every event) that works without signing in, for EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS. It can
only turn email off for its own user and event; it carries no URL (nothing to redirect to)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing

_SALT = "notifications.unsubscribe"
ALL_EVENTS = "*"


def make_token(user_id: int, event: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"u": user_id, "e": event}, compress=True)


def read_token(token: str) -> tuple[int, str] | None:
    """(user id, event or "*") of a valid token, else None (forged, altered, expired or malformed)."""
    if not isinstance(token, str) or len(token) > 512:
        return None
    try:
        data = signing.TimestampSigner(salt=_SALT).unsign_object(
            token, max_age=timedelta(days=settings.EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS)
        )
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        return None
    return data["u"], data["e"]
