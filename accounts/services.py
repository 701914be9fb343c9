"""Writes of a user on their own credentials (the password). User administration, profiles and their links are
`people.services`."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.errors import AccountError, AccountErrorCode
from accounts.models import User


def check_password_strength(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError(
            _("The password is too weak."), AccountErrorCode.WEAK_PASSWORD, fields={"password": list(exc.messages)}
        ) from exc


def password_change(*, user: User, old_password: str, new_password: str, current_token_key: str | None) -> None:
    """Change the password; every other session of the user is revoked, this one is kept.

    Both hashes (checking the current password, hashing the new one) are computed before the transaction opens:
    on SQLite a transaction holds the database's write lock from its start, and parallel requests queued behind a
    hash for its whole duration (up to the lock timeout, then a 500)."""
    if not user.check_password(old_password):
        raise AccountError(
            _("The current password is wrong."),
            AccountErrorCode.WRONG_PASSWORD,
            fields={"old_password": [_("The current password is wrong.")]},
        )
    check_password_strength(new_password, user)
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        tokens.revoke_all(user, keep=current_token_key)
