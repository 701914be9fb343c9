"""Writes on users and profiles. Each service is one transaction."""

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import tokens
from accounts.errors import AccountError, AccountErrorCode
from accounts.models import PROFILE_RELATED_NAMES, Role, User

# Fields a user may change on their own profile, by role. Links (a student's tutor and parent) are set by
# admins only.
SELF_EDITABLE_PROFILE_FIELDS = {
    Role.STUDENT: {"grade", "goal"},
    Role.TEACHER: {"bio", "experience_years"},
    Role.TUTOR: {"bio"},
    Role.PARENT: set(),
}
ADMIN_EDITABLE_PROFILE_FIELDS = {
    Role.STUDENT: {"grade", "goal", "tutor", "parent"},
    Role.TEACHER: {"bio", "experience_years"},
    Role.TUTOR: {"bio"},
    Role.PARENT: set(),
}


def generate_temporary_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password_strength(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError(
            "The password is too weak.", AccountErrorCode.WEAK_PASSWORD, fields={"password": list(exc.messages)}
        ) from exc


def _check_student_links(profile_data: dict) -> None:
    """A student's tutor must be a tutor and their parent a parent (the database enforces it too)."""
    for field, role in (("tutor", Role.TUTOR), ("parent", Role.PARENT)):
        linked = profile_data.get(field)
        if linked is not None and linked.role != role:
            raise AccountError(
                f"The {field} must be a user with role {role}.",
                AccountErrorCode.WRONG_ROLE,
                fields={field: [f"User {linked.pk} has role {linked.role}, not {role}."]},
            )


def _apply_profile(user: User, profile_data: dict, allowed: set[str]) -> None:
    if not profile_data:
        return
    unknown = set(profile_data) - allowed
    if unknown:
        raise AccountError(
            "These profile fields cannot be set here.",
            AccountErrorCode.READ_ONLY_FIELD,
            fields={f"profile.{name}": ["This field cannot be set."] for name in sorted(unknown)},
        )
    if user.role == Role.STUDENT:
        _check_student_links(profile_data)
    profile = getattr(user, PROFILE_RELATED_NAMES[user.role])
    links_before = _student_links(profile) if user.role == Role.STUDENT else None
    for name, value in profile_data.items():
        setattr(profile, name, value)
    profile.full_clean()
    if links_before is not None and _student_links(profile) != links_before:
        # Registered before the save, so that it runs before the chat receiver's own sync for the saved profile.
        _student_links_changed_on_commit(user.pk, former_ids=[pk for pk in links_before if pk is not None])
    profile.save()


def _student_links(profile) -> tuple[int | None, int | None]:
    return profile.tutor_id, profile.parent_id


def _student_links_changed_on_commit(student_id: int, *, former_ids: list[int]) -> None:
    """After the commit, the chat takes a replaced tutor or parent out of the family's direct rooms (and gives
    them to the new tutor). An explicit call into chat, imported here only: see docs/architecture.md."""

    def follow() -> None:
        from chat.services import family_links_changed

        family_links_changed(student_id=student_id, former_ids=former_ids)

    transaction.on_commit(follow)


@transaction.atomic
def user_create(
    *,
    email: str,
    role: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    timezone: str = "UTC",
    phone: str = "",
    profile: dict | None = None,
) -> tuple[User, str | None]:
    """Create a user of any role with its profile. Without a password a temporary one is generated and
    returned (once) as the second element."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.by_email(email).exists():
        raise AccountError(
            "A user with this email exists.",
            AccountErrorCode.EMAIL_TAKEN,
            fields={"email": ["A user with this email exists."]},
        )
    if role == Role.STUDENT:
        _check_student_links(profile or {})
    temporary = None
    if password is None:
        temporary = password = generate_temporary_password()
    candidate = User(email=email, first_name=first_name, last_name=last_name, role=role)
    _check_password_strength(password, candidate)
    try:
        user = User.objects.create_user(
            email, password, role=role, first_name=first_name, last_name=last_name, timezone=timezone, phone=phone
        )
    except IntegrityError as exc:
        raise AccountError("A user with this email exists.", AccountErrorCode.EMAIL_TAKEN) from exc
    _apply_profile(user, profile or {}, ADMIN_EDITABLE_PROFILE_FIELDS.get(role, set()))
    return user, temporary


@transaction.atomic
def user_update(
    *, user: User, data: dict, profile: dict | None = None, by_admin: bool = False, by: User | None = None
) -> User:
    """Change a user's own fields (and their profile). `role` never changes: the profile depends on it."""
    if data.get("is_active") is False:
        _check_not_self(user, by)
    if "email" in data:
        email = User.objects.normalize_email(data["email"]).lower()
        if User.objects.by_email(email).exclude(pk=user.pk).exists():
            raise AccountError(
                "A user with this email exists.",
                AccountErrorCode.EMAIL_TAKEN,
                fields={"email": ["A user with this email exists."]},
            )
        data = {**data, "email": email}
    for name, value in data.items():
        setattr(user, name, value)
    if "is_active" in data and not data["is_active"]:
        tokens.revoke_all(user)
    if data:
        user.full_clean(exclude=["password"])
        user.save()
    if profile:
        # A role without a profile (admin) accepts no profile field: refused, not silently dropped.
        allowed = (ADMIN_EDITABLE_PROFILE_FIELDS if by_admin else SELF_EDITABLE_PROFILE_FIELDS).get(user.role, set())
        _apply_profile(user, profile, allowed)
    return user


def _check_not_self(user: User, by: User | None) -> None:
    # An admin locking themselves out could leave the platform without any admin.
    if by is not None and by.pk == user.pk:
        raise AccountError(
            "You cannot deactivate your own account.",
            AccountErrorCode.CANNOT_DEACTIVATE_SELF,
            fields={"is_active": ["You cannot deactivate your own account."]},
        )


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Deactivation instead of deletion: the rows stay, sign-in and every token stop working."""
    _check_not_self(user, by)
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens.revoke_all(user)
    return user


@transaction.atomic
def user_reset_password(*, user: User) -> str:
    """Give the user a new temporary password and sign them out everywhere."""
    password = generate_temporary_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    tokens.revoke_all(user)
    return password


def password_change(*, user: User, old_password: str, new_password: str, current_token_key: str | None) -> None:
    """Change the password; every other session of the user is revoked, this one is kept.

    Both hashes (checking the current password, hashing the new one) are computed before the transaction opens:
    on SQLite a transaction holds the database's write lock from its start, and parallel requests queued behind a
    hash for its whole duration (up to the lock timeout, then a 500)."""
    if not user.check_password(old_password):
        raise AccountError(
            "The current password is wrong.",
            AccountErrorCode.WRONG_PASSWORD,
            fields={"old_password": ["The current password is wrong."]},
        )
    _check_password_strength(new_password, user)
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        tokens.revoke_all(user, keep=current_token_key)
