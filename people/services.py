"""User administration and profiles: create, update, deactivate, reset a password. Each service is one transaction.

A student's links (their tutor and parent) are access: after the commit that changed them, chat is told
(`chat.services.family_links_changed`, naming the former ones) so that a replaced tutor or parent loses the family's
direct rooms at once and the new ones get theirs. The Django admin's student profile pages call the same function
(`people/admin.py`)."""

import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.errors import AccountError, AccountErrorCode
from accounts.models import PROFILE_RELATED_NAMES, Role, StudentProfile, User
from accounts.services import check_password_strength
from chat.services import family_links_changed
from core import caching
from core.updating import model_update

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
# The user's own fields a service may change (the serializers decide which of them a request may send).
USER_UPDATABLE_FIELDS = ("email", "first_name", "last_name", "timezone", "phone", "is_active")


def generate_temporary_password() -> str:
    return secrets.token_urlsafe(12)


def check_student_links(profile_data: dict) -> None:
    """A student's tutor must be a tutor and their parent a parent (the database enforces it too)."""
    for field, role in (("tutor", Role.TUTOR), ("parent", Role.PARENT)):
        linked = profile_data.get(field)
        if linked is not None and linked.role != role:
            raise AccountError(
                f"The {field} must be a user with role {role}.",
                AccountErrorCode.WRONG_ROLE,
                fields={field: [f"User {linked.pk} has role {linked.role}, not {role}."]},
            )


def student_links(profile: StudentProfile) -> tuple[int | None, int | None]:
    """The student's (tutor id, parent id), to compare before and after a change."""
    return profile.tutor_id, profile.parent_id


def student_links_changed_on_commit(student_id: int, *, links_before: tuple[int | None, int | None]) -> None:
    """After the commit, chat makes the student's rooms follow the new links, naming the former tutor and
    parent (`chat.services.family_links_changed`). For every write of a student's links: these services and the
    Django admin's student profile pages."""
    former_ids = [pk for pk in links_before if pk is not None]
    transaction.on_commit(lambda: family_links_changed(student_id=student_id, former_ids=former_ids))


def _apply_profile(user: User, profile_data: dict, allowed: set[str]) -> None:
    if not profile_data:
        return
    unknown = set(profile_data) - allowed
    if unknown:
        raise AccountError(
            _("These profile fields cannot be set here."),
            AccountErrorCode.READ_ONLY_FIELD,
            fields={f"profile.{name}": [_("This field cannot be set.")] for name in sorted(unknown)},
        )
    if user.role == Role.STUDENT:
        check_student_links(profile_data)
    profile = getattr(user, PROFILE_RELATED_NAMES[user.role])
    links_before = student_links(profile) if user.role == Role.STUDENT else None
    model_update(profile, profile_data, fields=allowed, clean=True, save=False)
    profile.save()
    if links_before is not None and student_links(profile) != links_before:
        student_links_changed_on_commit(user.pk, links_before=links_before)


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
            _("A user with this email exists."),
            AccountErrorCode.EMAIL_TAKEN,
            fields={"email": [_("A user with this email exists.")]},
        )
    if role == Role.STUDENT:
        check_student_links(profile or {})
    temporary = None
    if password is None:
        temporary = password = generate_temporary_password()
    candidate = User(email=email, first_name=first_name, last_name=last_name, role=role)
    check_password_strength(password, candidate)
    try:
        user = User.objects.create_user(
            email, password, role=role, first_name=first_name, last_name=last_name, timezone=timezone, phone=phone
        )
    except IntegrityError as exc:
        raise AccountError(_("A user with this email exists."), AccountErrorCode.EMAIL_TAKEN) from exc
    _apply_profile(user, profile or {}, ADMIN_EDITABLE_PROFILE_FIELDS.get(role, set()))
    caching.invalidate(caching.PEOPLE)  # a parent's children, a student's links
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
                _("A user with this email exists."),
                AccountErrorCode.EMAIL_TAKEN,
                fields={"email": [_("A user with this email exists.")]},
            )
        data = {**data, "email": email}
    model_update(user, data, fields=USER_UPDATABLE_FIELDS, save=False)
    if "is_active" in data and not data["is_active"]:
        tokens.revoke_all(user)
    if data:
        user.full_clean(exclude=["password"])
        user.save()
    if profile:
        # A role without a profile (admin) accepts no profile field: refused, not silently dropped.
        allowed = (ADMIN_EDITABLE_PROFILE_FIELDS if by_admin else SELF_EDITABLE_PROFILE_FIELDS).get(user.role, set())
        _apply_profile(user, profile, allowed)
    caching.invalidate(caching.PEOPLE)
    return user


def _check_not_self(user: User, by: User | None) -> None:
    # An admin locking themselves out could leave the platform without any admin.
    if by is not None and by.pk == user.pk:
        raise AccountError(
            _("You cannot deactivate your own account."),
            AccountErrorCode.CANNOT_DEACTIVATE_SELF,
            fields={"is_active": [_("You cannot deactivate your own account.")]},
        )


@transaction.atomic
def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Deactivation instead of deletion: the rows stay, sign-in and every token stop working."""
    _check_not_self(user, by)
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens.revoke_all(user)
    caching.invalidate(caching.PEOPLE)
    return user


@transaction.atomic
def user_reset_password(*, user: User) -> str:
    """Give the user a new temporary password and sign them out everywhere."""
    password = generate_temporary_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    tokens.revoke_all(user)
    return password
