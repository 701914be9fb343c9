"""Users, roles and role profiles."""

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    TEACHER = "teacher", "Teacher"
    TUTOR = "tutor", "Tutor"
    PARENT = "parent", "Parent"
    ADMIN = "admin", "Admin"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA time zone.", code="invalid_timezone")


# Each role's one-to-one profile and its links, as `select_related` paths; all of them where a user is shown with
# whichever profile they have (the login's lookup, the admin's user list).
PROFILE_JOINS_BY_ROLE = {
    Role.STUDENT: ("student_profile__tutor", "student_profile__parent"),
    Role.TEACHER: ("teacher_profile",),
    Role.TUTOR: ("tutor_profile",),
    Role.PARENT: ("parent_profile",),
}
PROFILE_JOINS = tuple(path for paths in PROFILE_JOINS_BY_ROLE.values() for path in paths)

# What the admin's pages and filters show of a user: `__str__` and `full_name` read these fields only.
USER_DISPLAY_FIELDS = ("id", "email", "first_name", "last_name")


class RoleAdminFlag(models.BooleanField):
    """`is_staff` and `is_superuser`: true exactly for users of role admin, whatever was assigned. Recomputed
    from the role whenever the row is written by `save()` or `bulk_create()` (both call `pre_save`), so every
    path that creates users (the manager, the API's services, `createsuperuser`, the Django admin, the demo
    seeder's bulk insert) agrees: an admin has the whole Django admin, no other role ever enters it."""

    def pre_save(self, model_instance, add):
        value = model_instance.role == Role.ADMIN
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        # The column is a plain boolean; migrations need not know this class (nor break if it moves).
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.BooleanField", args, kwargs


class UserManager(BaseUserManager):
    use_in_migrations = True

    def by_email(self, email: str) -> models.QuerySet:
        """The user with `email`, whatever its case, found through the unique index on LOWER(email)
        (`email__iexact` compiles to UPPER(email) and reads the whole table)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=Lower(Value(email)))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        """Create a user and, in the same transaction, the profile of its role."""
        if not email:
            raise ValueError("An email is required.")
        fields.setdefault("role", Role.STUDENT)
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password
        with transaction.atomic():
            user.save(using=self._db)
            profile_model = PROFILE_MODELS.get(user.role)
            if profile_model is not None:
                profile_model.objects.create(user=user)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        """`createsuperuser` makes a user of role admin (staff and superuser follow from the role)."""
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username):
        """The login's lookup; the profiles come in the same query, since the login answers with the profile."""
        return self.by_email(username).select_related(*PROFILE_JOINS).get()


class User(AbstractBaseUser, PermissionsMixin):
    """A person on the platform. The email is the login; `role` decides the profile and what they see."""

    email = models.EmailField(unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT, db_index=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    phone = models.CharField(max_length=32, blank=True)
    # The language of messages to this person (emails, Telegram, the API's `detail`); "" follows Accept-Language
    # in the API and settings.LANGUAGE_CODE elsewhere. Set through /api/profile/me/notifications/.
    language = models.CharField(max_length=8, choices=[("en", "English"), ("ru", "Русский")], blank=True, default="")
    # Set by the Telegram binding flow; never exposed through the API.
    telegram_chat_id = models.BigIntegerField(null=True, blank=True, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = RoleAdminFlag(
        "staff status", default=False, help_text="Signs in to the Django admin: users of role admin, and only they."
    )
    # Overrides PermissionsMixin's: every permission, for users of role admin only (see RoleAdminFlag).
    is_superuser = RoleAdminFlag(
        "superuser status", default=False, help_text="Has every permission: users of role admin, and only they."
    )
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_valid"),
            # Logins look emails up case-insensitively; two spellings of one address would make that ambiguous.
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ci",
                violation_error_message="A user with this email exists.",
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} <{self.email}>" if name else self.email

    def save(self, *args, **kwargs):
        # The admin flags follow the role: a save that writes the role writes them too.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def telegram_linked(self) -> bool:
        return self.telegram_chat_id is not None


class StudentProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="student_profile")
    grade = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    goal = models.TextField(blank=True, max_length=2000)
    # Role of these two is checked by the service and, on both databases, by triggers (see migration 0002).
    tutor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="tutored_students")
    parent = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="children_profiles")

    def __str__(self) -> str:
        return f"Student profile of {self.user}"


class TeacherProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="teacher_profile")
    bio = models.TextField(blank=True, max_length=5000)
    experience_years = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(80)])

    def __str__(self) -> str:
        return f"Teacher profile of {self.user}"


class TutorProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="tutor_profile")
    bio = models.TextField(blank=True, max_length=5000)

    def __str__(self) -> str:
        return f"Tutor profile of {self.user}"


class ParentProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="parent_profile")

    def __str__(self) -> str:
        return f"Parent profile of {self.user}"


PROFILE_MODELS: dict[str, type[models.Model]] = {
    Role.STUDENT: StudentProfile,
    Role.TEACHER: TeacherProfile,
    Role.TUTOR: TutorProfile,
    Role.PARENT: ParentProfile,
}
PROFILE_RELATED_NAMES = {
    Role.STUDENT: "student_profile",
    Role.TEACHER: "teacher_profile",
    Role.TUTOR: "tutor_profile",
    Role.PARENT: "parent_profile",
}


def person_name(user: User) -> str:
    """The name others see: the full name, or when the user has neither first nor last name, the part of their
    email before the "@" (never the whole address)."""
    return person_name_of(user.first_name, user.last_name, user.email)


def person_name_of(first_name: str, last_name: str, email: str) -> str:
    """`person_name` from the three columns (the readers of `accounts.readers` load columns, not users)."""
    return f"{first_name} {last_name}".strip() or email.partition("@")[0]


# The columns a person reference (`accounts.serializers.PersonSerializer`, `person_name`) reads.
PERSON_FIELDS = frozenset({"id", "email", "role", "first_name", "last_name"})


def person_deferred(path: str) -> list[str]:
    """For `QuerySet.defer()`: the columns of the user at `path` (a select_related path such as "student" or
    "last_message__sender") that a person reference never reads. A list shows dozens of people; loading only
    what is shown spares converting their password hashes and dates (`date_joined`, `last_login`) row by row."""
    return [f"{path}__{field.name}" for field in User._meta.concrete_fields if field.name not in PERSON_FIELDS]
