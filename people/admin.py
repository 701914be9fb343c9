"""Django admin's user and profile pages (the models are accounts', so the URLs stay `/admin/accounts/...`).

Every write of a student's links here (the student profile page, and the profile inline of the user page) tells
chat after the commit, as the API's services do (`people.services.student_links_changed_on_commit`)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.admin import RoleUsersMixin, role_filter
from accounts.models import ParentProfile, Role, StudentProfile, TeacherProfile, TutorProfile, User
from core.caching import PEOPLE, InvalidatingAdminMixin
from people.services import student_links, student_links_changed_on_commit


def _student_links_saved(form, profile: StudentProfile) -> None:
    """After a student profile's form was saved: chat follows the links on commit when they changed. The
    links before are the form's initial values (the ids as loaded), so this costs no query."""
    before = (form.initial.get("tutor"), form.initial.get("parent"))
    if student_links(profile) != before:
        student_links_changed_on_commit(profile.user_id, links_before=before)


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
class UserAdmin(InvalidatingAdminMixin, DjangoUserAdmin):
    cache_scopes = (PEOPLE,)
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

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is StudentProfile:
            for inline_form in formset.forms:
                if inline_form.instance.pk is not None and inline_form.has_changed():
                    _student_links_saved(inline_form, inline_form.instance)

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


class _ProfileAdmin(InvalidatingAdminMixin, admin.ModelAdmin):
    """A profile is created with its user and lives as long as it: no adding or deleting one on its own,
    and its user (the primary key) never changes."""

    cache_scopes = (PEOPLE,)
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _student_links_saved(form, obj)


@admin.register(TeacherProfile)
class TeacherProfileAdmin(_ProfileAdmin):
    list_display = ["user", "experience_years"]


@admin.register(TutorProfile)
class TutorProfileAdmin(_ProfileAdmin):
    list_display = ["user"]


@admin.register(ParentProfile)
class ParentProfileAdmin(_ProfileAdmin):
    list_display = ["user"]
