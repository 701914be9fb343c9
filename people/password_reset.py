"""Self-service password reset by email (docs/security.md "Password reset"). The admin's reset (a temporary
password, `people.services.user_reset_password`) stays beside it.

- `request_reset(email)`: the request path does the same work whether or not an account has `email`: it counts
  the request against the per-address limit (`PasswordResetThrottled`, the same for every address) and enqueues
  `people.tasks.password_reset_send`, whose job looks the account up and, for an active one, emails the link. No
  lookup on the request path, so neither the answer nor its timing tells whether the account exists.
- The link carries the user's id (base64) and a token of Django's PasswordResetTokenGenerator: an HMAC over the
  user's password hash, last login and the time it was made, valid PASSWORD_RESET_TIMEOUT seconds. Setting a
  password (or signing in) changes what it signs, so a token works once; none is stored.
- `confirm_reset(uid, token, new_password)`: checks the token, the password against AUTH_PASSWORD_VALIDATORS, sets
  it and revokes every session of the user (knox tokens; chat sockets close on their revoked tokens, see
  chat/revocation.py; Django admin sessions end with the password hash).
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import tokens
from accounts.errors import AccountError, AccountErrorCode
from accounts.models import User
from accounts.services import check_password_strength
from config import counters
from notifications.services import language_of, notify

logger = logging.getLogger("thebot.accounts")


class PasswordResetThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many reset requests; retry after {retry_after} s")
        self.retry_after = retry_after


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _email_key(email: str) -> str:
    return "pwreset:email:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def count_request(email: str) -> None:
    """One more reset request for `email` (whether or not an account has it); PasswordResetThrottled over
    PASSWORD_RESET_PER_EMAIL per window. Fails open when the cache is down (logged), as every throttle does."""
    try:
        window = counters.hit(_email_key(email), settings.PASSWORD_RESET_WINDOW_SECONDS)
    except Exception:
        logger.exception("password reset throttle cache unavailable; request allowed")
        return
    if window.count > settings.PASSWORD_RESET_PER_EMAIL:
        raise PasswordResetThrottled(window.retry_after())


def uid_of(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def reset_link(user: User) -> str:
    token = default_token_generator.make_token(user)
    return settings.PASSWORD_RESET_URL_TEMPLATE.format(uid=uid_of(user), token=token)


RESET_TEXT = gettext_lazy(
    "Someone, hopefully you, asked to reset the password of your account at THE_BOT. "
    "Open the link below to choose a new password: it works once, for %(minutes)d minutes.\n"
    "If you did not ask, ignore this email: your password stays as it is."
)


def send_reset_email(email: str) -> bool:
    """The job's work: email a reset link to the active account with `email`, if there is one."""
    user = User.objects.by_email(normalize_email(email)).filter(is_active=True).first()
    if user is None:
        logger.info("password reset asked for no active account")
        return False
    with translation.override(language_of(user)):
        text = RESET_TEXT % {"minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
        buttons = [[{"text": _("Choose a new password"), "url": reset_link(user)}]]
    used = notify(user, event="password_reset", text=text, buttons=buttons)
    logger.info("password reset link queued", extra={"fields": {"user": user.pk, "channels": used}})
    return bool(used)


def _user_of(uid: str, token: str) -> User:
    invalid = AccountError(
        gettext_lazy("This password reset link is invalid or expired."), AccountErrorCode.INVALID_RESET_TOKEN
    )
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        raise invalid from None
    if not 0 < pk < 2**63:
        raise invalid
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise invalid
    return user


def confirm_reset(*, uid: str, token: str, new_password: str) -> User:
    """Set `new_password` for the user of a valid link and revoke every session of theirs. The hash is computed
    before the transaction (see accounts.services.password_change); the row lock makes two confirmations of one
    link race-free: the second finds the password changed and the token spent."""
    user = _user_of(uid, token)
    check_password_strength(new_password, user)
    user.set_password(new_password)
    new_hash = user.password
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not default_token_generator.check_token(locked, token):
            raise AccountError(
                gettext_lazy("This password reset link is invalid or expired."), AccountErrorCode.INVALID_RESET_TOKEN
            )
        User.objects.filter(pk=user.pk).update(password=new_hash)
        revoked = tokens.revoke_all(user)
    logger.info("password reset", extra={"fields": {"user": user.pk, "sessions_revoked": revoked}})
    return user
