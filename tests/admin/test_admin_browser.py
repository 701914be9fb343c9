"""The Django admin in a real browser: Debian's Chromium, headless, driven by Playwright against a live server.

The seeded admin (`seed_demo`, as `make run` makes it) signs in through the login form and opens every registered
model's changelist and change page (the models and the rows to open come from test_admin_pages.py, so a newly
registered model is walked here too); searches and filters the invoices; edits and saves a subject; sends a draft
invoice with the admin action. Every page is a 2xx or 3xx without Django's error page, the browser logs no
JavaScript error, and a screenshot of each page is saved under reports/admin/ (reports/ is git-ignored).

Chromium comes from the Debian package (`make install-browser`), never from a Playwright download; the browser gets
a fresh profile and no network but 127.0.0.1.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import connections
from django.urls import reverse

from accounts.models import Role
from enrollments.models import Subject
from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory
from tests.admin.test_admin_pages import (  # noqa: F401 - `seeded` is a fixture, used through request
    PASSWORD,
    SMALL,
    change_page_objects,
    fill_empty_models,
    seeded,
)

pytestmark = [pytest.mark.heavy, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "reports" / "admin"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page with a fresh profile; `page.problems` collects JS errors, failed loads and 5xx answers."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: `make install-browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    profile = tempfile.mkdtemp(prefix="thebot-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.problems = []
        # A resource that does not load is named by the response listener (the console line has no URL); the
        # browser's own favicon request is not the admin's (Django's admin declares no favicon).
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.text.startswith("Failed to load resource")
                and page.problems.append(f"console: {m.text}")
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: (
                (r.status >= 500 or (r.status >= 400 and r.request.resource_type != "document"))
                and not r.url.endswith("/favicon.ico")
                and page.problems.append(f"{r.status}: {r.url}")
            ),
        )
        try:
            yield page
        finally:
            # The ORM calls made while Playwright's loop runs in this thread use connections of their own context:
            # closed here, or they would keep the test database open past its teardown.
            connections.close_all()
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _open(page, url: str, shot: str):
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    assert "Server Error" not in page.title(), url
    assert page.locator("#content").count() == 1, url
    page.screenshot(path=str(SHOTS / f"{_slug(shot)}.png"), full_page=True)
    return response


def _rows(page) -> int:
    return page.locator("#result_list tbody tr").count()


def test_the_seeded_admin_uses_every_admin_page_in_chromium(request, live_server, browser_page):
    logins = request.getfixturevalue("seeded")(SMALL)
    fill_empty_models(2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, base = browser_page, live_server.url
    opened = 0

    # Sign in through the login form, as the seeded admin.
    _open(page, f"{base}/admin/login/?next=/admin/", "login")
    page.fill("#id_username", logins["logins"][Role.ADMIN]["email"])
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    _open(page, f"{base}/admin/", "index")
    assert page.locator("#user-tools").count() == 1

    # Every registered model: its changelist shows rows, its change page(s) a form.
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        _open(page, base + reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), f"{opts.label} list")
        assert _rows(page) > 0, f"{opts.label}: the changelist shows no rows"
        opened += 1
        for index, obj in enumerate(change_page_objects(model, model_admin)):
            url = base + reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            _open(page, url, f"{opts.label} change {index}")
            assert page.locator("#content-main form").count() == 1, f"{opts.label}: no change form"
            opened += 1

    # Search narrows: the invoices of one parent, found by their email through the search box.
    invoices_url = base + reverse("admin:invoices_invoice_changelist")
    _open(page, invoices_url, "invoices unfiltered")
    unfiltered = _rows(page)
    parent = Invoice.objects.order_by("pk").first().parent
    page.fill("#searchbar", parent.email)
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "invoices-search.png"), full_page=True)
    found = _rows(page)
    assert 0 < found == Invoice.objects.filter(parent=parent).count() < unfiltered

    # A filter narrows: the status filter's "Draft" link.
    _open(page, invoices_url, "invoices before filter")
    page.locator("#changelist-filter a", has_text=re.compile(r"^Draft$")).first.click()
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "invoices-filter-draft.png"), full_page=True)
    drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT).count()
    assert 0 < _rows(page) == min(drafts, 50) and drafts < Invoice.objects.count()
    assert "status__exact=draft" in page.url

    # The send action on one draft: the admin reports it, and the invoice is sent with its history row.
    draft = Invoice.objects.filter(status=InvoiceStatus.DRAFT).order_by("pk").first()
    page.check(f"input[name=_selected_action][value='{draft.pk}']")
    page.select_option("select[name=action]", "send_invoices")
    page.click("button[name=index]")
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "invoices-send-action.png"), full_page=True)
    assert "1 invoice(s) sent; 0 skipped." in page.locator(".messagelist").inner_text()
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.SENT and draft.sent_at is not None
    assert InvoiceStatusHistory.objects.filter(invoice=draft, new_status=InvoiceStatus.SENT).count() == 1

    # A change form saves: a subject's description, edited in the browser.
    subject = Subject.objects.order_by("pk").first()
    _open(page, base + reverse("admin:enrollments_subject_change", args=[subject.pk]), "subject edit")
    page.fill("#id_description", "Edited in Chromium.")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "subject-saved.png"), full_page=True)
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    subject.refresh_from_db()
    assert subject.description == "Edited in Chromium."

    assert page.problems == []
    print(f"\n{opened} admin pages opened in Chromium; screenshots in {SHOTS}")  # a figure, not an assertion
