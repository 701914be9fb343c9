"""The Django admin as the platform's admins use it: the demo admin that `seed_demo` makes (role admin, not a
superuser made by `create_superuser`) signs in through the admin's login form, sees every registered model,
and every changelist and change page costs the same number of queries on `seed_demo --scale small` and on
three times its rows.

The walk takes the models from `admin.site._registry`, so a newly registered model is covered without editing
this file (if its rows are not seeded, add a maker to `MAKERS`).
"""

import dataclasses
import hashlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, ForeignKey, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from knox.models import AuthToken

from accounts.models import Role, User
from accounts.tasks import tokens_prune_expired_job
from assignments.models import SubmissionAttempt, SubmissionFile
from demo.seeding import SCALES
from jobs.models import JobEffect, PeriodicRun, WorkerHeartbeat
from notifications.models import TelegramLinkCode
from scheduling.models import CalendarFeed

pytestmark = pytest.mark.django_db

PASSWORD = "admin-walk-secret-2026"
SMALL = "small"
TRIPLE = "small-x3"  # every volume of `small` times three


def _user(role: str) -> User:
    return User.objects.filter(role=role).order_by("id")[0]


def _nth_user(n: int) -> User:
    return User.objects.order_by("id")[n]


# Rows of the models the seeder leaves empty (or nearly): made here, `count` of them.
MAKERS = {
    AuthToken: lambda n: AuthToken.objects.create(user=_nth_user(n)),
    PeriodicRun: lambda n: PeriodicRun.objects.create(name=f"job_{n % 3}", slot=1_700_000_000 + 60 * n),
    WorkerHeartbeat: lambda n: WorkerHeartbeat.objects.create(worker_id=f"worker-{n}", beat_at=timezone.now()),
    JobEffect: lambda n: JobEffect.objects.create(key=f"telegram:walk:{n}"),
    DBTaskResult: lambda n: tokens_prune_expired_job.enqueue(),
    TelegramLinkCode: lambda n: TelegramLinkCode.objects.create(
        user=_nth_user(n),
        code_hash=hashlib.sha256(f"code-{n}".encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(minutes=15),
    ),
    SubmissionFile: lambda n: SubmissionFile.objects.create(
        attempt=SubmissionAttempt.objects.order_by("id")[n],
        file=f"assignments/walk-{n}.txt",
        name=f"answer-{n}.txt",
        content_type="text/plain",
        size=10,
    ),
    CalendarFeed: lambda n: CalendarFeed.objects.create(
        user=User.objects.filter(calendar_feed__isnull=True).order_by("id").first(),  # one feed per user
        nonce=f"nonce-{n}",
        secret_hash=hashlib.sha256(f"feed-{n}".encode()).hexdigest(),
    ),
}


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    """`seed(scale)` runs `manage.py seed_demo` and returns the demo logins file."""
    base = SCALES[SMALL]
    tripled = {
        field.name: getattr(base, field.name) * 3
        for field in dataclasses.fields(base)
        # Three times the people, subjects, lessons, messages, invoices (and so classes and their materials).
        if field.name not in ("name", "files", "materials_per_class", "assignments_per_class")
    }
    monkeypatch.setitem(SCALES, TRIPLE, dataclasses.replace(base, name=TRIPLE, **tripled))

    def seed(scale: str) -> dict:
        output = tmp_path / f"logins-{scale}.json"
        call_command("seed_demo", scale=scale, seed=7, password=PASSWORD, output=str(output), stdout=StringIO())
        return json.loads(output.read_text())

    return seed


def sign_in_as_seeded_admin(logins: dict) -> Client:
    """Through the admin's own login form, with the password of the logins file."""
    login = logins["logins"][Role.ADMIN]
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": login["email"], "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/admin/"
    user = User.objects.get(email=login["email"])
    assert user.role == Role.ADMIN and user.is_staff and user.is_superuser  # by its role, not create_superuser
    return client


def fill_empty_models(count: int, at_least: dict[str, int] | None = None) -> None:
    """Rows made by `MAKERS` until each model has `count` (or its `at_least` entry, by label): the seeder draws
    some of these models' rows by chance, so three times the people need not give them three times the rows."""
    for model in admin.site._registry:
        maker = MAKERS.get(model)
        missing = max(count, (at_least or {}).get(model._meta.label, 0)) - model._default_manager.count()
        if maker is not None:
            for n in range(max(missing, 0)):
                maker(n)
        assert model._default_manager.exists(), f"{model._meta.label}: no rows to walk; seed them or add a maker"


def change_page_objects(model, model_admin) -> list:
    """The objects whose change pages are walked. For users, the first of each role (each role has its own
    inline). Otherwise one: among the rows with every optional foreign key set (when there are such rows), so
    that both runs show pages of the same shape, the one with the most inline rows."""
    if model is User:
        return [_user(role) for role in Role.values]
    if model_admin.list_display_links is None:
        return []  # no change page offered (sign-in tokens: their primary key is the token's digest)
    optional = [f for f in model._meta.concrete_fields if isinstance(f, ForeignKey) and f.null]
    rows = model._default_manager.all()
    full = rows.filter(Q(*[Q(**{f"{f.name}__isnull": False}) for f in optional]))
    if full.exists():
        rows = full
    inline_rows = [Count(_inline_relation(model, inline), distinct=True) for inline in model_admin.inlines]
    if inline_rows:
        rows = rows.annotate(inline_rows=sum(inline_rows[1:], inline_rows[0])).order_by("-inline_rows", "pk")
    return [rows.order_by(*rows.query.order_by or ["pk"]).first()]


def _inline_relation(model, inline) -> str:
    (fk,) = [
        field
        for field in inline.model._meta.concrete_fields
        if isinstance(field, ForeignKey) and field.remote_field.model is model and inline.fk_name in (None, field.name)
    ]
    return fk.related_query_name()


def walk(client: Client, monkeypatch, per_page: int) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """(status, queries) of every registered model's changelist, `per_page` rows a page, and change page(s),
    and how many rows each changelist showed. Each page is opened once before it is measured, so that
    per-process caches (content types) are warm in both runs."""
    pages, shown = {}, {}
    for model, model_admin in admin.site._registry.items():
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        opts = model._meta
        urls = {f"{opts.label} list": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")}
        for index, obj in enumerate(change_page_objects(model, model_admin)):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            urls[f"{opts.label} change #{index}"] = url
        for name, url in urls.items():
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            pages[name] = (response.status_code, len(queries))
            if name.endswith(" list") and response.status_code == 200:
                shown[opts.label] = len(response.context["cl"].result_list)
    return pages, shown


def test_the_seeded_admin_sees_every_model_on_the_index(seeded):
    client = sign_in_as_seeded_admin(seeded(SMALL))

    page = client.get("/admin/").content.decode()

    assert "have permission to view or edit anything" not in page
    missing = [
        model._meta.label
        for model in admin.site._registry
        if reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") not in page
    ]
    assert missing == []


@pytest.mark.slow  # two seeds and ~110 pages: about 20 s
def test_every_changelist_and_change_page_costs_the_same_on_three_times_the_rows(seeded, monkeypatch):
    # Pages of 20 rows on `small`, of 60 on three times its rows: a query per row would show.
    with transaction.atomic():
        client = sign_in_as_seeded_admin(seeded(SMALL))
        fill_empty_models(2)
        small_rows = {model._meta.label: model._default_manager.count() for model in admin.site._registry}
        small, small_shown = walk(client, monkeypatch, per_page=20)
        transaction.set_rollback(True)

    client = sign_in_as_seeded_admin(seeded(TRIPLE))
    fill_empty_models(6, at_least={label: 3 * rows for label, rows in small_rows.items()})
    large_rows = {model._meta.label: model._default_manager.count() for model in admin.site._registry}
    large, large_shown = walk(client, monkeypatch, per_page=60)

    assert {name: status for name, (status, _) in small.items()} == dict.fromkeys(small, 200)
    assert [label for label, rows in large_rows.items() if rows < 2 * small_rows[label]] == []
    assert [label for label, rows in large_shown.items() if rows <= small_shown[label]] == []
    assert large == small
