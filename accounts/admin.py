from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts.models import ParentProfile, Role, StudentProfile, TeacherProfile, TutorProfile, User


class StudentProfileInline(admin.StackedInline):
    model = StudentProfile
    fk_name = "user"
    can_delete = False
    autocomplete_fields = ["tutor", "parent"]


class TeacherProfileInline(admin.StackedInline):
    model = TeacherProfile
    can_delete = False


class TutorProfileInline(admin.StackedInline):
    model = TutorProfile
    can_delete = False


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
    list_display = ["id", "email", "first_name", "last_name", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password", "role"]}),
        ("Personal", {"fields": ["first_name", "last_name", "timezone", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "first_name", "last_name", "password1", "password2"]})
    ]

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


class _ProfileAdmin(admin.ModelAdmin):
    """A profile is created with its user and lives as long as it: no adding or deleting one on its own."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StudentProfile)
class StudentProfileAdmin(_ProfileAdmin):
    list_display = ["user", "grade", "tutor", "parent"]
    list_select_related = ["user", "tutor", "parent"]
    search_fields = ["user__email", "user__last_name"]
    autocomplete_fields = ["user", "tutor", "parent"]
    list_filter = ["grade"]


@admin.register(TeacherProfile)
class TeacherProfileAdmin(_ProfileAdmin):
    list_display = ["user", "experience_years"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]


@admin.register(TutorProfile)
class TutorProfileAdmin(_ProfileAdmin):
    list_display = ["user"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]


@admin.register(ParentProfile)
class ParentProfileAdmin(_ProfileAdmin):
    list_display = ["user"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]
