"""Django admin for users, profiles and sign-in tokens, and what every app's admin shares about users.

Who enters the admin: users of role admin, and only they (staff and superuser follow from the role, see
`accounts.models.RoleAdminFlag`). Groups and per-user permissions play no part, so their pages and fields are gone.

User foreign keys hold users of one role each (a lesson's `teacher` is a teacher). An admin class names them in
`user_field_roles`; `RoleUsersMixin` then offers only that role in the field's select/autocomplete, and
`role_filter` makes a list filter that lists only that role.
"""

import knox.admin  # noqa: F401  (registers knox's own admin first, so that it can be replaced below)
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import (
    USER_DISPLAY_FIELDS,
    ParentProfile,
    Role,
    StudentProfile,
    TeacherProfile,
    TutorProfile,
    User,
)
from config.parsing import InvalidInput, parse_id

admin.site.unregister(Group)
admin.site.unregister(AuthToken)


def role_filter(field: str, role: str, title: str | None = None) -> type[admin.SimpleListFilter]:
    """A list filter on the user foreign key `field` that lists the users of `role` only (by name), where
    Django's own filter lists every user of every role. One query for the list, whatever the number of rows."""

    class RoleFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            users = User.objects.filter(role=role).only(*USER_DISPLAY_FIELDS).order_by("last_name", "first_name", "id")
            return [(str(user.pk), user.full_name) for user in users]

        def queryset(self, request, queryset):
            value = self.value()
            if value is None:
                return queryset
            try:
                user_id = parse_id(value)
            except InvalidInput:
                raise IncorrectLookupParameters(f"{field}: not a user id") from None
            return queryset.filter(**{f"{field}_id": user_id})

    RoleFilter.title = title or f"{field.replace('_', ' ')} ({role}s only)"
    RoleFilter.__name__ = RoleFilter.__qualname__ = f"{field.title().replace('_', '')}RoleFilter"
    return RoleFilter


class ViewOnlyMixin:
    """A page to look rows up, not to write them: no adding, no editing (deleting stays the admin class's choice).
    For records written by the services (histories, reminders, messages) and for secrets' metadata."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RoleUsersMixin:
    """For ModelAdmins and inlines: the user foreign keys named in `user_field_roles` offer (and accept) users of
    their role only, in selects, raw-id fields and autocompletes (see `UserAdmin.get_search_results`)."""

    user_field_roles: dict[str, str] = {}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        role = self.user_field_roles.get(db_field.name)
        if role is not None:
            kwargs.setdefault("queryset", User.objects.filter(role=role))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        role = self.user_field_roles.get(db_field.name)
        if role is not None:
            kwargs.setdefault("queryset", User.objects.filter(role=role))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class UnlabelledRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input without the name beside it, which Django looks up with one query per widget: for inline
    rows, whose own title already names the user (their queryset loads it), so a page costs the same whatever
    the number of rows."""

    def label_and_url_for_value(self, value):
        return "", ""


class UnlabelledRawIdMixin:
    """For inlines: the `raw_id_fields` use `UnlabelledRawIdWidget`."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.raw_id_fields:
            kwargs.setdefault(
                "widget", UnlabelledRawIdWidget(db_field.remote_field, self.admin_site, using=kwargs.get("using"))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StudentProfileInline(RoleUsersMixin, admin.StackedInline):
    model = StudentProfile
    fk_name = "user"
    can_delete = False
    autocomplete_fields = ["tutor", "parent"]
    user_field_roles = {"tutor": Role.TUTOR, "parent": Role.PARENT}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class TeacherProfileInline(admin.StackedInline):
    model = TeacherProfile
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class TutorProfileInline(admin.StackedInline):
    model = TutorProfile
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


INLINES = {Role.STUDENT: StudentProfileInline, Role.TEACHER: TeacherProfileInline, Role.TUTOR: TutorProfileInline}


class _LowercaseEmailMixin:
    """Emails are stored lower-cased (as the manager does), so the case-insensitive unique constraint and
    the login lookup agree with what the admin typed."""

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()


class UserCreateForm(_LowercaseEmailMixin, UserCreationForm):
    class Meta:
        model = User
        fields = ["email", "role", "first_name", "last_name"]


class UserEditForm(_LowercaseEmailMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreateForm
    form = UserEditForm
    ordering = ["id"]
    list_display = ["id", "email", "first_name", "last_name", "role", "is_active", "date_joined", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    list_per_page = 50
    show_full_result_count = False
    # Staff and superuser follow from the role (RoleAdminFlag): shown, never edited.
    readonly_fields = ["is_staff", "is_superuser", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password", "role"]}),
        ("Personal", {"fields": ["first_name", "last_name", "timezone", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "first_name", "last_name", "password1", "password2"]})
    ]
    filter_horizontal = []

    def get_readonly_fields(self, request, obj=None):
        # The profile depends on the role, and the API never changes it either: fixed once the user exists.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "role"] if obj is not None else fields

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: lessons, messages and invoices keep pointing at them.
        return False

    def get_inlines(self, request, obj):
        # The profile of the user's own role only; a new user gets theirs when saved.
        inline = INLINES.get(obj.role) if obj is not None else None
        return [inline] if inline else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Creating through the manager makes the profile in the same transaction.
        password = form.cleaned_data.get("password1")
        created = User.objects.create_user(
            obj.email, password, role=obj.role, first_name=obj.first_name, last_name=obj.last_name
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj.password = created.password
        obj.is_staff, obj.is_superuser = created.is_staff, created.is_superuser

    def get_search_results(self, request, queryset, search_term):
        """An autocomplete for a user foreign key offers the users of that field's role only."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        role = self._autocomplete_role(request)
        if role is not None:
            queryset = queryset.filter(role=role)
        return queryset, may_have_duplicates

    def _autocomplete_role(self, request) -> str | None:
        source = request.GET.get("app_label", ""), request.GET.get("model_name", "")
        field_name = request.GET.get("field_name")
        if not field_name:
            return None
        for model_admin in self.admin_site._registry.values():
            for owner in [model_admin, *model_admin.inlines]:
                if (owner.model._meta.app_label, owner.model._meta.model_name) == source:
                    role = getattr(owner, "user_field_roles", {}).get(field_name)
                    if role is not None:
                        return role
        return None


class _ProfileAdmin(admin.ModelAdmin):
    """A profile is created with its user and lives as long as it: no adding or deleting one on its own,
    and its user (the primary key) never changes."""

    list_select_related = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    readonly_fields = ["user"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        # Also what the change page shows. (The list applies `list_select_related` only to a queryset that
        # selects nothing related yet, so this is the list's join too.)
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StudentProfile)
class StudentProfileAdmin(RoleUsersMixin, _ProfileAdmin):
    list_display = ["user", "grade", "tutor", "parent"]
    list_select_related = ["user", "tutor", "parent"]
    autocomplete_fields = ["tutor", "parent"]
    list_filter = ["grade", role_filter("tutor", Role.TUTOR), ("parent", admin.EmptyFieldListFilter)]
    user_field_roles = {"user": Role.STUDENT, "tutor": Role.TUTOR, "parent": Role.PARENT}


@admin.register(TeacherProfile)
class TeacherProfileAdmin(_ProfileAdmin):
    list_display = ["user", "experience_years"]


@admin.register(TutorProfile)
class TutorProfileAdmin(_ProfileAdmin):
    list_display = ["user"]


@admin.register(ParentProfile)
class ParentProfileAdmin(_ProfileAdmin):
    list_display = ["user"]


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("expired", "expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(expiry__gt=now)
        if self.value() == "expired":
            return queryset.filter(expiry__lte=now)
        return queryset


@admin.register(AuthToken)
class SignInTokenAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Sign-in sessions (knox tokens), read-only. The token's digest is its primary key, so rows link to no
    page and carry no checkbox: neither the digest nor any part of the token appears. Revoke with logout-all,
    a password reset or deactivation (API), which also close chat sockets."""

    list_display = ["user", "created", "expiry"]
    list_display_links = None
    list_select_related = ["user"]
    list_filter = [TokenStateFilter, "created"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    ordering = ["-created"]
    actions = None
    list_per_page = 50
    show_full_result_count = False

    fields = ["user", "created", "expiry"]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False
