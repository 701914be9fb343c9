"""Hostile ids, numbers and dates on every endpoint, generated from the OpenAPI schema so that new endpoints and
parameters are covered without editing this file.

For every operation, as each role: every numeric or date query parameter, every path id and every integer or date
field of a JSON body gets the values QA used to stall a process or reach a 500. The answer is a 400 `invalid`
naming the parameter (or the role's 403, or a 404 for a path), or a 200 for a valid value; never a 500. That the
answer needs no long computation holds by construction (config.parsing measures the text before converting it;
tests/config/test_parsing.py checks it with a million digits).
"""

import json
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Role
from chat.models import Message
from config.parsing import BIGINT_MAX
from scheduling.models import Lesson
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TeacherFactory, TutorFactory
from tests.assignments.factories import AssignmentFactory
from tests.chat.factories import group_room
from tests.conftest import client_for
from tests.invoices.factories import InvoiceFactory
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory
from tests.scheduling.factories import in_hours, make_lesson

NUL = "\x00"
HOSTILE = [
    "-1e600000",
    "1e1000000",
    "99999999999999999999",
    "9223372036854775808",
    "²",
    "١٢",
    " 1",
    "0x10",
    "1.0",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    NUL,
]
ROLES = [Role.STUDENT, Role.TEACHER, Role.TUTOR, Role.PARENT, Role.ADMIN]

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _kind(schema: dict) -> str | None:
    if schema.get("type") in ("integer", "number"):
        return "number"
    if schema.get("format") in ("date", "date-time"):
        return schema["format"]
    return None


def _operations():
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict):
                yield path, method, operation


QUERY_CASES = [
    pytest.param(path, param["name"], kind, id=f"{path}?{param['name']}")
    for path, method, operation in _operations()
    if method == "get"
    for param in operation.get("parameters", [])
    if param["in"] == "query" and (kind := _kind(param.get("schema", {})))
]
TEXT_QUERY_CASES = [
    pytest.param(path, param["name"], id=f"{path}?{param['name']}")
    for path, method, operation in _operations()
    if method == "get"
    for param in operation.get("parameters", [])
    if param["in"] == "query" and not _kind(param.get("schema", {}))
]
PATH_CASES = [
    pytest.param(path, method, param["name"], id=f"{method.upper()} {path} {{{param['name']}}}")
    for path, method, operation in _operations()
    for param in operation.get("parameters", [])
    if param["in"] == "path" and param.get("schema", {}).get("type") == "integer"
]


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body_fields(schema: dict, prefix: tuple = ()):
    """(field path, property) of a request body: top-level fields and those of nested objects, one level deep."""
    for name, prop in _resolve(schema).get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        yield (*prefix, name), prop
        if not prefix and _resolve(prop).get("type") == "object":
            yield from _body_fields(prop, (name,))


BODY_CASES = [
    pytest.param(path, method, field, kind, bool(prop.get("nullable")), id=f"{method.upper()} {path} {'.'.join(field)}")
    for path, method, operation in _operations()
    if method in ("post", "put", "patch") and "application/json" in operation.get("requestBody", {}).get("content", {})
    for field, prop in _body_fields(operation["requestBody"]["content"]["application/json"]["schema"])
    if (kind := _kind(prop) or (_kind(prop.get("items", {})) and "list") or (_kind(_resolve(prop)) and "ref"))
]


def test_the_generated_cases_cover_the_known_parameters():
    """A guard on the generator itself: the parameters QA named are among the generated cases."""
    query = {case.id for case in QUERY_CASES}
    for expected in [
        "/api/scheduling/lessons/?student",
        "/api/scheduling/lessons/?from",
        "/api/materials/?author",
        "/api/materials/enrollments/?teacher",
        "/api/assignments/?subject",
        "/api/invoices/?student",
        "/api/invoices/summary/?student",
        "/api/invoices/?due_before",
        "/api/materials/progress/?student",
        "/api/chat/rooms/{id}/messages/?before",
        "/api/assignments/gradebook/?student",
        "/api/assignments/{id}/submissions/?student",
    ]:
        assert expected in query
    assert "GET /api/chat/rooms/{id}/ {id}" in {case.id for case in PATH_CASES}
    assert {"POST /api/scheduling/lessons/ start", "PATCH /api/admin/users/{id}/ profile.tutor"} <= {
        case.id for case in BODY_CASES
    }
    assert len(PATH_CASES) > 40 and len(BODY_CASES) > 20


@pytest.fixture
def world(db):
    """One of everything, visible to one user of each role."""
    teacher, tutor, parent, admin = TeacherFactory(), TutorFactory(), ParentFactory(), AdminFactory()
    student = StudentFactory()
    profile = student.student_profile
    profile.tutor, profile.parent = tutor, parent
    profile.save()
    subject = SubjectFactory()
    enrollment = EnrollmentFactory(student=student, teacher=teacher, subject=subject)
    room = group_room(teacher, student, tutor, parent, admin)
    users = {Role.STUDENT: student, Role.TEACHER: teacher, Role.TUTOR: tutor, Role.PARENT: parent, Role.ADMIN: admin}
    return {
        "users": users,
        "clients": {role: client_for(user) for role, user in users.items()},
        "ids": {
            "/api/admin/users/": student.pk,
            "/api/assignments/": AssignmentFactory(teacher=teacher, subject=subject).pk,
            "/api/chat/rooms/": room.pk,
            "/api/chat/messages/": Message.objects.create(room=room, sender=teacher, text="hi", client_id="c1").pk,
            "/api/invoices/": InvoiceFactory(tutor=tutor, parent=parent, student=student).pk,
            "/api/materials/enrollments/": enrollment.pk,
            "/api/materials/subjects/": subject.pk,
            "/api/materials/": MaterialFactory(author=teacher, subject=subject).pk,
            "/api/scheduling/lessons/": make_lesson(enrollment, start=in_hours(48)).pk,
        },
    }


def _fill(path: str, world, **values) -> str:
    """The path with its `{name}` parameters set: `values` where given, else the id of a visible object."""
    prefix = path.split("{", 1)[0]
    default = next((pk for known, pk in sorted(world["ids"].items(), reverse=True) if prefix.startswith(known)), 1)
    for name in [part.split("}", 1)[0] for part in path.split("{")[1:]]:
        path = path.replace("{" + name + "}", str(values.get(name, default)))
    return path


def _assert_invalid(response, name: str):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "invalid"
    assert name in body["fields"], body


@pytest.mark.parametrize(("path", "name", "kind"), QUERY_CASES)
def test_hostile_query_values_are_400_never_500(world, path, name, kind):
    for role, client in world["clients"].items():
        url = _fill(path, world)
        baseline = client.get(url)
        assert baseline.status_code < 500
        if baseline.status_code not in (200, 400):  # a role that may not call this at all (403)
            for raw in HOSTILE:
                assert client.get(url, {name: raw}).status_code == baseline.status_code, (role, raw)
            continue
        for raw in HOSTILE:
            _assert_invalid(client.get(url, {name: raw}), name)
        # Empty is "not given": the same answer as without the parameter.
        empty = client.get(url, {name: ""})
        assert (empty.status_code, empty.json()) == (baseline.status_code, baseline.json()), role
        # A valid value at the bound is served: a list of nothing for an id nobody has.
        valid = {"number": str(BIGINT_MAX), "date": "9998-12-31", "date-time": "9998-12-31T23:59:59Z"}[kind]
        if name in ("page", "limit"):
            continue  # a page past the end is 404; a limit has its own small bound (below)
        answer = client.get(url, {name: valid})
        if name == "student" and path == "/api/materials/progress/":
            assert answer.status_code == 404  # the dashboard of a student the caller does not see
            continue
        assert answer.status_code == 200, (role, answer.content[:300])
        if kind == "number" and name not in ("page_size", "before") and "results" in answer.json():
            assert answer.json()["results"] == [], (role, name)


def test_chat_history_limit_and_page_have_their_own_bounds(world):
    client = world["clients"][Role.TEACHER]
    messages = f"/api/chat/rooms/{world['ids']['/api/chat/rooms/']}/messages/"
    assert client.get(messages, {"limit": "100"}).status_code == 200
    _assert_invalid(client.get(messages, {"limit": "101"}), "limit")
    _assert_invalid(client.get(messages, {"limit": "0"}), "limit")
    assert client.get(messages, {"after": "0"}).status_code == 200
    assert client.get("/api/materials/", {"page": str(BIGINT_MAX)}).status_code == 404
    assert client.get("/api/materials/", {"page": "last"}).status_code == 200
    assert client.get("/api/materials/", {"page_size": str(BIGINT_MAX)}).status_code == 200


@pytest.mark.parametrize(("path", "name"), TEXT_QUERY_CASES)
def test_a_nul_character_in_any_other_query_parameter_is_never_a_500(world, path, name):
    for client in world["clients"].values():
        url = _fill(path, world)
        baseline = client.get(url).status_code
        answer = client.get(url, {name: f"a{NUL}b"})
        assert answer.status_code in (baseline, 400), answer.content[:300]
        if answer.status_code == 400 and baseline != 400:
            assert name in answer.json()["fields"]


@pytest.mark.parametrize(("path", "method", "name"), PATH_CASES)
def test_a_path_id_that_is_not_an_id_is_a_json_404(world, path, method, name):
    client = world["clients"][Role.ADMIN]
    for raw in [*HOSTILE, "0", "0" * 29 + "1", "9" * 30, ""]:
        response = getattr(client, method)(_fill(path, world, **{name: quote(raw, safe="")}), {}, format="json")
        assert response.status_code == 404, (raw, response.status_code, response.content[:200])
        assert response.json()["code"] == "not_found"
    for client in world["clients"].values():
        response = getattr(client, method)(_fill(path, world, **{name: BIGINT_MAX}), {}, format="json")
        # A valid id nobody has: 404 (or the role's 403, or a 400 where the body is checked before the lookup).
        assert response.status_code in (400, 403, 404), response.content[:200]


BODY_VALUES = [
    *HOSTILE,
    "",
    "9999-12-31",
    "0001-01-01",
    10**20,
    BIGINT_MAX + 1,
    -1,
    0.5,
    True,
    [1],
    {"id": 1},
]
RAW_JSON_NUMBERS = ["1e999999", "-1e600000", "9" * 4000, "1" + "0" * 20]


def _nested(field: tuple, value) -> dict:
    for name in reversed(field):
        value = {name: value}
    return value


@pytest.mark.parametrize(("path", "method", "field", "kind", "nullable"), BODY_CASES)
def test_hostile_body_values_are_refused_never_500(world, path, method, field, kind, nullable):
    before = {model: list(model.objects.order_by("pk").values()) for model in (Lesson, Message)}
    # A nullable relation reads "" as null (DRF's rule for form input): that value is valid there.
    values = [value for value in BODY_VALUES if not (value == "" and nullable)]
    bodies = [json.dumps(_nested(field, [value] if kind == "list" else value)) for value in values]
    marker = json.dumps(_nested(field, "RAW"))
    bodies += [marker.replace('"RAW"', f"[{raw}]" if kind == "list" else raw) for raw in RAW_JSON_NUMBERS]
    for role, client in world["clients"].items():
        url = _fill(path, world)
        for body in bodies:
            response = getattr(client, method)(url, body, content_type="application/json")
            assert response.status_code in (400, 403, 404, 409), (role, body[:80], response.content[:300])
            if response.status_code == 400 and response.json()["code"] == "invalid":
                assert field[0] in response.json().get("fields", {}) or response.json().get("fields") is None, body
    assert before == {model: list(model.objects.order_by("pk").values()) for model in (Lesson, Message)}


STRING_CASES = [
    pytest.param(path, method, name, id=f"{method.upper()} {path} {name}")
    for path, method, operation in _operations()
    if method in ("post", "put", "patch") and "application/json" in operation.get("requestBody", {}).get("content", {})
    for name, prop in _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
    .get("properties", {})
    .items()
    if not prop.get("readOnly") and prop.get("type") == "string" and not prop.get("format")
]


@pytest.mark.parametrize(("path", "method", "name"), STRING_CASES)
def test_a_nul_character_in_any_text_field_is_400_and_changes_nothing(world, path, method, name):
    """PostgreSQL cannot store NUL in text: every text field refuses it (chat `text`, `client_id`, titles, ...)."""
    before = {model: list(model.objects.order_by("pk").values()) for model in (Lesson, Message)}
    for role, client in world["clients"].items():
        response = getattr(client, method)(_fill(path, world), {name: f"a{NUL}b"}, format="json")
        assert response.status_code in (400, 403, 404), (role, response.content[:300])
        if response.status_code == 400:
            assert name in response.json().get("fields", {}), (role, response.content[:300])
    assert before == {model: list(model.objects.order_by("pk").values()) for model in (Lesson, Message)}


def test_a_nul_character_in_multipart_text_is_400_and_in_a_file_name_is_dropped(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    room = world["ids"]["/api/chat/rooms/"]
    teacher = world["clients"][Role.TEACHER]
    for data in ({"text": f"a{NUL}b", "client_id": "m1"}, {"text": "ok", "client_id": f"m{NUL}2"}):
        response = teacher.post(f"/api/chat/rooms/{room}/messages/", data, format="multipart")
        assert response.status_code == 400, response.content[:300]
    student = world["clients"][Role.STUDENT]
    assignment = world["ids"]["/api/assignments/"]
    response = student.post(f"/api/assignments/{assignment}/submissions/", {"text": f"a{NUL}b"}, format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert Message.objects.count() == 1
    # Django's multipart parser drops the NUL of a file name: stored (also on PostgreSQL) without it.
    upload = SimpleUploadedFile(f"no{NUL}te.txt", b"hello\n")
    response = teacher.post(
        f"/api/chat/rooms/{room}/messages/", {"text": "", "client_id": "m3", "attachment": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["attachment_name"] == "note.txt"
