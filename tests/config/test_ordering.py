"""`?ordering=` on every list endpoint that declares `ordering_fields`: allowed fields, `-field` and comma lists
order the rows; anything else is a 400 naming the allowed fields, like an unknown filter value."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from invoices.models import InvoiceStatus
from materials.models import MaterialStatus
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.assignments.factories import AssignmentFactory
from tests.chat.factories import group_room
from tests.conftest import client_for
from tests.invoices.factories import InvoiceFactory
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory
from tests.scheduling.factories import make_lesson

pytestmark = pytest.mark.django_db

# Every list endpoint with ordering_fields (found by walking the URLconf, so a new one cannot be missed) and the
# fields it offers; each has rows in `school` below.
ORDERED_LISTS = {
    "/api/admin/users/": ["id", "email", "last_name", "date_joined"],
    "/api/materials/subjects/": ["name", "id"],
    "/api/materials/enrollments/": ["created_at", "started_at", "id"],
    "/api/materials/": ["created_at", "updated_at", "title"],
    "/api/scheduling/lessons/": ["start", "end"],
    "/api/assignments/": ["due_at", "created_at", "title"],
    "/api/invoices/": ["created_at", "due_date", "amount", "status"],
}


def walk(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry


def test_the_ordered_lists_are_exactly_these():
    found = {}
    for entry in walk(get_resolver("config.urls").url_patterns):
        view_class, actions = getattr(entry.callback, "cls", None), getattr(entry.callback, "actions", None) or {}
        if actions.get("get") == "list" and getattr(view_class, "ordering_fields", None) is not None:
            found[reverse(entry.name)] = list(view_class.ordering_fields)
    assert found == ORDERED_LISTS


@pytest.fixture
def school():
    """Three rows in every ordered list, with values that order differently by each field."""
    now = timezone.now()
    tutor, parent = (
        TutorFactory(last_name="mike", email="mike@x.test"),
        ParentFactory(last_name="kilo", email="k@x.test"),
    )
    teachers = [TeacherFactory(last_name=name, email=f"{name}@x.test") for name in ("charlie", "alpha", "bravo")]
    students = [
        link_student(StudentFactory(last_name=name, email=f"s.{name}@x.test"), tutor=tutor, parent=parent)
        for name in ("zulu", "echo", "golf")
    ]
    subjects = [SubjectFactory(name=name) for name in ("physics", "art", "maths")]
    for n, (teacher, student, subject) in enumerate(zip(teachers, students, subjects, strict=True)):
        enrollment = EnrollmentFactory(
            student=student,
            teacher=teacher,
            subject=subject,
            started_at=date(2026, 1, 1) + timedelta(days=(2, 0, 1)[n]),
        )
        MaterialFactory(
            author=teacher, subject=subject, title=("gamma", "alpha", "beta")[n], status=MaterialStatus.PUBLISHED
        )
        start = now + timedelta(days=(2, 1, 3)[n])
        make_lesson(enrollment, start=start, minutes=(30, 90, 60)[n])
        AssignmentFactory(
            teacher=teacher, subject=subject, title=("b", "c", "a")[n], due_at=now + timedelta(days=(3, 1, 2)[n])
        )
        InvoiceFactory(
            tutor=tutor,
            parent=parent,
            student=student,
            amount=Decimal(("900.00", "1500.00", "80.50")[n]),
            due_date=date(2026, 12, 1) - timedelta(days=n),
            status=(InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED, InvoiceStatus.PAID)[n],
        )
    return client_for(AdminFactory(last_name="lima", email="lima@x.test"))


def value(raw):
    """A JSON value as the database orders it (datetimes and decimals are strings in JSON)."""
    if isinstance(raw, str):
        for parse in (datetime.fromisoformat, Decimal):
            try:
                return parse(raw.replace("Z", "+00:00")) if parse is datetime.fromisoformat else parse(raw)
            except (ValueError, ArithmeticError):
                pass
    return raw


def expected_ids(rows: list[dict], ordering: str) -> list[int]:
    """Rows sorted by the ordering's terms, equal ones by id (stable sorts, last term first)."""
    rows = sorted(rows, key=lambda row: row["id"])
    for term in reversed(ordering.split(",")):
        name = term.removeprefix("-")
        rows = sorted(rows, key=lambda row, name=name: value(row[name]), reverse=term.startswith("-"))
    return [row["id"] for row in rows]


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


@pytest.mark.parametrize("path", ORDERED_LISTS)
def test_each_field_orders_both_ways(school, path):
    rows = results(school.get(path))
    assert len(rows) >= 3
    for field in ORDERED_LISTS[path]:
        for ordering in (field, f"-{field}"):
            ordered = results(school.get(path, {"ordering": ordering}))
            assert [row["id"] for row in ordered] == expected_ids(rows, ordering), ordering


@pytest.mark.parametrize("path", ORDERED_LISTS)
def test_comma_lists_order_by_each_term_in_turn(school, path):
    fields = ORDERED_LISTS[path]
    rows = results(school.get(path))
    ordering = ",".join(f"-{field}" if n % 2 else field for n, field in enumerate(reversed(fields)))
    spaced = " , ".join(ordering.split(",")) + ","  # spaces around terms and a trailing comma are forgiven

    for asked in (ordering, spaced):
        assert [row["id"] for row in results(school.get(path, {"ordering": asked}))] == expected_ids(rows, ordering)


@pytest.mark.parametrize("path", ORDERED_LISTS)
def test_an_empty_ordering_is_the_default_order(school, path):
    assert results(school.get(path, {"ordering": ""})) == results(school.get(path))


@pytest.mark.parametrize("path", ORDERED_LISTS)
@pytest.mark.parametrize("bogus", ["bogus", "-bogus", "--{f}", "{f},bogus", "{f}__id", "-", "password"])
def test_unknown_ordering_is_400_naming_the_allowed_fields(school, path, bogus, django_assert_num_queries):
    fields = ORDERED_LISTS[path]
    asked = bogus.format(f=fields[0])
    unknown = [term for term in asked.split(",") if term.removeprefix("-") not in fields]

    # The token (and for invoices, the overdue update every read of them makes); the list is not read.
    with django_assert_num_queries(2 if path == "/api/invoices/" else 1):
        response = school.get(path, {"ordering": asked})

    assert response.status_code == 400
    names = ", ".join(f"'{term}'" for term in unknown)
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "fields": {
            "ordering": [
                f"Unknown ordering field {names}. Allowed: {', '.join(fields)}, each optionally prefixed with '-' "
                "for descending; separate several with commas."
            ]
        },
    }


def test_unknown_ordering_has_the_shape_of_an_unknown_filter_value(school):
    ordering = school.get("/api/invoices/", {"ordering": "bogus"}).json()
    status = school.get("/api/invoices/", {"status": "bogus"}).json()

    assert set(ordering) == set(status) == {"detail", "code", "fields"}
    assert (ordering["detail"], ordering["code"]) == (status["detail"], status["code"])


def test_several_unknown_terms_are_named_together(school):
    response = school.get("/api/materials/subjects/", {"ordering": "x,-name,y"})

    assert response.status_code == 400
    assert response.json()["fields"]["ordering"][0].startswith("Unknown ordering fields 'x', 'y'. Allowed: name, id,")


def test_a_list_without_ordering_fields_refuses_any_ordering(make_client, teacher, student):
    group_room(teacher, student)
    client = make_client(teacher)

    assert len(results(client.get("/api/chat/rooms/", {"ordering": ""}))) == 1
    response = client.get("/api/chat/rooms/", {"ordering": "id"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"ordering": ["Unknown ordering field 'id': this list cannot be ordered."]}
