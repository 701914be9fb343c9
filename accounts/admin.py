"""Django admin for sign-in tokens, and what every app's admin shares about users. The user and profile pages
are `people/admin.py` (the models stay here, so their URLs stay `/admin/accounts/...`).

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
from django.contrib.auth.models import Group
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import USER_DISPLAY_FIELDS, User
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
