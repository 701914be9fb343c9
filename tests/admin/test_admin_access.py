"""Who enters the Django admin (users of role admin, by every path that makes or changes users), what its
filters and user fields offer (only the right role), how rows are named, and that no secret is shown."""

import hashlib
import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.management import call_command
from django.test import Client
from knox.models import AuthToken

from accounts.models import Role, User
from enrollments.models import Enrollment
from invoices.models import InvoiceStatusHistory
from materials.models import MaterialProgress
from notifications.models import TelegramLinkCode
from people.admin import INLINES
from scheduling.models import CalendarFeed
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    UserFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory, SubjectFactory
from tests.scheduling.factories import make_lesson

pytestmark = pytest.mark.django_db

FLAGS = ("is_staff", "is_superuser")


def flags(user: User) -> tuple[bool, bool]:
    user.refresh_from_db()
    return user.is_staff, user.is_superuser


@pytest.fixture
def admin_browser(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


# --- The rule: role admin <=> staff and superuser -------------------------------------------------------------
def test_the_manager_makes_admins_staff_and_superusers_and_nobody_else():
    assert flags(AdminFactory()) == (True, True)
    for role in (Role.STUDENT, Role.TEACHER, Role.TUTOR, Role.PARENT):
        user = UserFactory(role=role, is_staff=True, is_superuser=True)
        assert flags(user) == (False, False)
        assert not user.is_admin


def test_the_api_creates_admins_who_enter_the_django_admin(make_client, admin_user):
    response = make_client(admin_user).post(
        "/api/admin/users/",
        {"email": "new-admin@example.test", "role": "admin", "password": "chosen-secret-4242"},
        format="json",
    )
    assert response.status_code == 201
    created = User.objects.get(email="new-admin@example.test")
    assert flags(created) == (True, True)
    client = Client()
    client.force_login(created)
    assert client.get("/admin/").status_code == 200


def test_createsuperuser_makes_a_user_of_role_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-secret-2026")
    call_command("createsuperuser", "--noinput", "--email", "root@example.test", verbosity=0)
    root = User.objects.get(email="root@example.test")
    assert (root.role, *flags(root)) == (Role.ADMIN, True, True)


def test_a_bulk_insert_follows_the_rule_too():
    # The demo seeder inserts users with bulk_create: no save() runs, the field's pre_save does.
    User.objects.bulk_create(
        [
            User(email="bulk-admin@example.test", role=Role.ADMIN),
            User(email="bulk-student@example.test", role=Role.STUDENT, is_staff=True, is_superuser=True),
        ]
    )
    assert flags(User.objects.get(email="bulk-admin@example.test")) == (True, True)
    assert flags(User.objects.get(email="bulk-student@example.test")) == (False, False)


def test_a_role_change_carries_the_flags_also_with_update_fields():
    user = ParentFactory()  # no student links, so the role may change
    user.role = Role.ADMIN
    user.save(update_fields=["role"])
    assert flags(user) == (True, True)
    user.role = Role.TUTOR
    user.save()
    assert flags(user) == (False, False)


def test_assigning_the_flags_changes_nothing():
    teacher, root = TeacherFactory(), AdminFactory()
    teacher.is_superuser = teacher.is_staff = True
    teacher.save()
    root.is_superuser = root.is_staff = False
    root.save()
    assert flags(teacher) == (False, False)
    assert flags(root) == (True, True)


def test_the_migration_fixes_existing_rows():
    root, teacher = AdminFactory(), TeacherFactory()
    # As the seeder left them: admins staff without permissions; and a stray flag on another role.
    User.objects.filter(pk=root.pk).update(is_superuser=False)
    User.objects.filter(pk=teacher.pk).update(is_staff=True, is_superuser=True)
    migration = importlib.import_module("accounts.migrations.0004_admin_role_flags")

    migration.flags_follow_role(apps, None)

    assert flags(root) == (True, True)
    assert flags(teacher) == (False, False)


def test_the_django_admin_add_form_makes_admins_superusers(admin_browser):
    for email, role in (("ops@example.test", Role.ADMIN), ("t@example.test", Role.TEACHER)):
        data = {"email": email, "role": role, "password1": "x-Secret-2026!", "password2": "x-Secret-2026!"}
        data |= {"first_name": "", "last_name": "", "usable_password": "true"}
        response = admin_browser.post("/admin/accounts/user/add/", data)
        assert response.status_code == 302, response.content[:2000]
    assert flags(User.objects.get(email="ops@example.test")) == (True, True)
    assert flags(User.objects.get(email="t@example.test")) == (False, False)


@pytest.mark.parametrize("factory", [StudentFactory, TeacherFactory, TutorFactory, ParentFactory])
def test_other_roles_are_sent_to_the_login_page(factory):
    client = Client()
    client.force_login(factory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_user_page_shows_the_flags_read_only(admin_browser, admin_user):
    response = admin_browser.get(f"/admin/accounts/user/{admin_user.pk}/change/")
    form = response.context["adminform"].form
    assert not set(FLAGS) & set(form.fields)
    assert "groups" not in form.fields and "user_permissions" not in form.fields


# --- Filters and user fields list only the right role ---------------------------------------------------------
def _filter_choices(response, parameter: str) -> set[str]:
    (spec,) = [spec for spec in response.context["cl"].filter_specs if getattr(spec, "parameter_name", "") == parameter]
    return {str(value) for value, _ in spec.lookup_choices}


def test_the_lessons_teacher_filter_lists_teachers_only(admin_browser):
    teacher, student, tutor = TeacherFactory(), StudentFactory(), TutorFactory()
    enrollment = EnrollmentFactory(student=student, teacher=teacher, subject=SubjectFactory())
    lesson = make_lesson(enrollment, start=datetime(2026, 12, 1, 10, tzinfo=UTC))

    response = admin_browser.get("/admin/scheduling/lesson/")

    assert _filter_choices(response, "teacher") == {str(teacher.pk)}
    filtered = admin_browser.get(f"/admin/scheduling/lesson/?teacher={teacher.pk}")
    assert list(filtered.context["cl"].result_list) == [lesson]
    assert admin_browser.get(f"/admin/scheduling/lesson/?teacher={tutor.pk}").context["cl"].result_count == 0


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "\u00b2", "-1e600000", "0"])
def test_a_bad_filter_value_is_not_a_server_error(admin_browser, value):
    TeacherFactory()  # a filter without choices is not shown, and ignores its parameter
    response = admin_browser.get("/admin/scheduling/lesson/", {"teacher": value})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "model, field, role",
    [
        ("enrollments/enrollment", "teacher", Role.TEACHER),
        ("enrollments/enrollment", "student", Role.STUDENT),
        ("materials/material", "author", Role.TEACHER),
        ("accounts/studentprofile", "tutor", Role.TUTOR),
        ("accounts/studentprofile", "parent", Role.PARENT),
    ],
)
def test_autocompletes_offer_the_fields_role_only(admin_browser, model, field, role):
    people = {made.role: made for made in (StudentFactory(), TeacherFactory(), TutorFactory(), ParentFactory())}
    app_label, model_name = model.split("/")
    query = {"app_label": app_label, "model_name": model_name, "field_name": field, "term": ""}

    response = admin_browser.get("/admin/autocomplete/", query)

    assert response.status_code == 200
    assert {int(row["id"]) for row in response.json()["results"]} == {people[role].pk}


def test_a_user_of_the_wrong_role_is_refused_by_the_form(admin_browser):
    student, other = StudentFactory(), StudentFactory()
    data = {"student": student.pk, "subject": SubjectFactory().pk, "teacher": other.pk}
    data |= {"is_active": "on", "started_at": "2026-11-01"}

    response = admin_browser.post("/admin/enrollments/enrollment/add/", data)

    assert response.status_code == 200
    assert "teacher" in response.context["adminform"].form.errors
    assert not Enrollment.objects.exists()


# --- Names -----------------------------------------------------------------------------------------------------
def test_rows_are_named_for_people(admin_browser):
    anna = StudentFactory(first_name="Anna", last_name="Petrova")
    ivan = TeacherFactory(first_name="Ivan", last_name="Sidorov")
    enrollment = EnrollmentFactory(student=anna, teacher=ivan, subject=SubjectFactory(name="Mathematics"))

    assert str(enrollment) == "Anna Petrova in Mathematics with Ivan Sidorov"
    assert str(anna) == f"Anna Petrova <{anna.email}>"
    page = admin_browser.get("/admin/enrollments/enrollment/").content.decode()
    assert "Anna Petrova" in page and "Ivan Sidorov" in page


def test_plural_names_read_well(admin_browser):
    assert InvoiceStatusHistory._meta.verbose_name_plural == "invoice status history entries"
    assert MaterialProgress._meta.verbose_name_plural == "material progress"
    index = admin_browser.get("/admin/").content.decode()
    assert "Invoice status history entries" in index
    assert "historys" not in index.lower()


# --- Secrets are never shown ----------------------------------------------------------------------------------
def test_secrets_and_digests_are_not_shown(admin_browser):
    linked = link_student(StudentFactory(), tutor=TutorFactory())
    feed = CalendarFeed.objects.create(user=linked, nonce="n0nce-value-123", secret_hash="f" * 64)
    code = TelegramLinkCode.objects.create(
        user=linked, code_hash=hashlib.sha256(b"c").hexdigest(), expires_at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    token, _ = AuthToken.objects.create(user=linked, expiry=timedelta(hours=1))
    secrets = [feed.nonce, feed.secret_hash, code.code_hash, token.digest, token.token_key]

    pages = [
        "/admin/scheduling/calendarfeed/",
        f"/admin/scheduling/calendarfeed/{feed.pk}/change/",
        "/admin/notifications/telegramlinkcode/",
        f"/admin/notifications/telegramlinkcode/{code.pk}/change/",
        "/admin/knox/authtoken/",
    ]
    for url in pages:
        response = admin_browser.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert [secret for secret in secrets if secret in body] == [], url
    assert admin.site.get_model_admin(AuthToken).has_change_permission(None) is False


def test_no_form_loads_every_user(rf, admin_user):
    """Every user foreign key on an add or change form is a raw-id field, an autocomplete or read-only: a select
    would load every user of the platform (one query, so the query counts would not show it)."""
    request = rf.get("/admin/")
    request.user = admin_user
    selects = []
    for model, model_admin in admin.site._registry.items():
        owners = [model_admin, *model_admin.get_inline_instances(request)]
        if model is User:  # the profile inline depends on the user's role
            owners += [inline(model, admin.site) for inline in INLINES.values()]
        for owner in owners:
            readonly = set(owner.get_readonly_fields(request))
            shown = set(flatten_fieldsets(owner.get_fieldsets(request)))
            for field in owner.model._meta.get_fields():
                if not (field.is_relation and field.concrete and field.related_model is User):
                    continue
                if owner is not model_admin and owner.fk_name in (None, field.name) and model is User:
                    continue  # an inline's link to its user: a hidden field
                if field.name in shown - readonly - set(owner.raw_id_fields) - set(owner.autocomplete_fields):
                    selects.append(f"{owner.model._meta.label}.{field.name}")
    assert selects == []
