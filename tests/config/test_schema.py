"""The OpenAPI schema: generated without warnings, every error documented with the one Error component, a user's
profile typed by role, list parameters only where honoured, and `GET /api/schema/` safe under parallel requests."""

import copy
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from io import StringIO

import jsonschema
import pytest
import yaml
from django.core.management import call_command

from accounts.errors import AccountErrorCode
from accounts.models import Role
from assignments.errors import AssignmentErrorCode
from chat.errors import ChatErrorCode
from config import schema_view
from config.exceptions import ErrorCode
from config.schema import CODE_DESCRIPTIONS
from files.errors import FileErrorCode
from invoices.errors import InvoiceErrorCode
from materials.errors import MaterialErrorCode
from notifications.errors import NotificationErrorCode
from scheduling.errors import SchedulingErrorCode
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TeacherFactory, TutorFactory
from tests.conftest import client_for
from tests.materials.factories import SubjectFactory

ERROR_REF = "#/components/schemas/Error"
METHODS = {"get", "post", "put", "patch", "delete"}
# The health probes answer before any parsing, authentication or throttling: no client error to document (the
# readiness probe documents its 503).
NO_CLIENT_ERRORS = {"health_retrieve", "health_ready_retrieve"}
# The list operations: the only ones with the view's filters, `ordering` and `search`.
LIST_OPERATIONS = {
    "billing_lessons_list",
    "billing_pay_rates_list",
    "billing_rates_list",
    "invoices_lines_list",
    "admin_users_list",
    "assignments_list",
    "assignments_gradebook_list",
    "chat_rooms_list",
    "invoices_list",
    "materials_list",
    "materials_enrollments_list",
    "materials_subjects_list",
    "scheduling_lessons_list",
}
# Other GET operations that read query parameters, with exactly those.
ACTION_QUERY_PARAMETERS = {
    "assignments_submissions_list": {"status", "student", "is_late", "page", "page_size"},
    "invoices_history_list": {"page", "page_size"},
    "invoices_summary_retrieve": {"status", "student", "due_before", "due_after"},
    "materials_progress_retrieve": {"student"},
    "chat_rooms_messages_retrieve": {"before", "after", "limit"},
    "notifications_unsubscribe_retrieve": {"token"},
}
# Codes of errors.py that no REST operation answers: WebSocket frames, an admin-site action, an unused one.
NOT_REST_CODES = {"bad_frame", "unknown_type", "not_due", "enrollment_inactive"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    target = tmp_path_factory.mktemp("schema") / "schema.yml"
    # --fail-on-warn turns any warning or error of the generator into a failure; --validate checks the result
    # against the OpenAPI 3 specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stdout=StringIO())
    return yaml.safe_load(target.read_text())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(schema, node):
    while "$ref" in node:
        _, section, name = node["$ref"][2:].split("/")
        node = schema["components"][section][name]
    return node


def documented_codes(schema, operation, status) -> list[str]:
    response = resolve(schema, operation["responses"][str(status)])
    parts = response["content"]["application/json"]["schema"]["allOf"]
    return parts[1]["properties"]["code"]["enum"]


def find_operation(schema, method, path):
    return schema["paths"][path][method]


def test_schema_is_valid_and_warning_free(schema):
    paths = schema["paths"]
    for path in ["/api/auth/login/", "/api/profile/me/", "/api/admin/users/", "/api/admin/users/{id}/reset-password/"]:
        assert path in paths
    schemes = schema["components"]["securitySchemes"]
    assert [scheme["scheme"] for scheme in schemes.values()] == ["bearer"]


# --- errors --------------------------------------------------------------------------------------------------
def test_every_operation_documents_its_errors_with_the_error_component(schema):
    for path, method, operation in operations(schema):
        statuses = [int(status) for status in operation["responses"]]
        where = f"{method.upper()} {path}"
        assert 405 not in statuses, where
        if operation["operationId"] in NO_CLIENT_ERRORS:
            assert all(status < 400 or status >= 500 for status in statuses), where
        else:
            assert any(400 <= status < 500 for status in statuses), f"{where} documents no 4xx"
        for status in statuses:
            if status < 400:
                continue
            response = resolve(schema, operation["responses"][str(status)])
            media = response["content"]["application/json"]
            assert media["schema"]["allOf"][0] == {"$ref": ERROR_REF}, (where, status)
            codes = documented_codes(schema, operation, status)
            assert codes, (where, status)
            for code in codes:
                assert f"`{code}`" in response["description"], (where, status, code)
                assert media["examples"][code]["value"]["code"] == code


def test_the_error_component_is_the_contract_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"detail", "code", "fields"}
    assert error["required"] == ["detail", "code"]


def test_generic_rules(schema):
    login = find_operation(schema, "post", "/api/auth/login/")
    assert documented_codes(schema, login, 400) == ["invalid", "parse_error"]
    assert documented_codes(schema, login, 401) == ["invalid_credentials"]  # anonymous: no token codes
    assert documented_codes(schema, login, 429) == ["throttled"]
    assert "Retry-After" in resolve(schema, login["responses"]["429"])["headers"]

    me = find_operation(schema, "get", "/api/profile/me/")
    assert sorted(int(status) for status in me["responses"]) == [200, 401, 429]
    assert documented_codes(schema, me, 401) == ["not_authenticated", "authentication_failed", "invalid_auth_header"]

    admin_list = find_operation(schema, "get", "/api/admin/users/")
    assert documented_codes(schema, admin_list, 403) == ["permission_denied"]  # IsAdmin refuses other roles
    assert documented_codes(schema, admin_list, 404) == ["not_found"]  # a page past the end
    assert documented_codes(schema, admin_list, 400) == ["invalid"]  # a bad filter value

    # Read by any role (IsTeacherToWrite lets every role read): no 403.
    assert "403" not in find_operation(schema, "get", "/api/assignments/{id}/")["responses"]

    upload = find_operation(schema, "post", "/api/assignments/{id}/attachments/")
    assert "file_type_not_allowed" in documented_codes(schema, upload, 400)
    assert documented_codes(schema, upload, 413) == ["request_too_large", "file_too_large"]
    assert documented_codes(schema, upload, 415) == ["unsupported_media_type"]

    feed = find_operation(schema, "get", "/api/scheduling/feed/{secret}.ics")
    assert sorted(int(status) for status in feed["responses"]) == [200, 404, 429]


def test_domain_codes_are_declared(schema):
    lesson_create = find_operation(schema, "post", "/api/scheduling/lessons/")
    assert documented_codes(schema, lesson_create, 409) == ["lesson_conflict"]
    assert "not_enrolled" in documented_codes(schema, lesson_create, 400)
    pay = find_operation(schema, "post", "/api/invoices/{id}/pay/")
    assert documented_codes(schema, pay, 409) == ["illegal_transition", "payment_in_progress"]
    assert documented_codes(schema, pay, 502) == ["payment_provider_unavailable"]
    assert documented_codes(schema, pay, 503) == ["payments_not_configured"]
    progress = schema["paths"]["/api/materials/{id}/progress/"]
    assert "permission_denied" in documented_codes(schema, progress["get"], 403)  # the author only
    message_edit = find_operation(schema, "patch", "/api/chat/messages/{id}/")
    assert documented_codes(schema, message_edit, 409) == ["message_deleted"]


def test_every_documented_code_exists_and_every_rest_code_is_documented(schema):
    enums: list[type[StrEnum]] = [
        ErrorCode,
        FileErrorCode,
        AccountErrorCode,
        MaterialErrorCode,
        SchedulingErrorCode,
        AssignmentErrorCode,
        ChatErrorCode,
        InvoiceErrorCode,
        NotificationErrorCode,
    ]
    known = {str(code) for enum in enums for code in enum} | {"invalid_auth_header", "not_ready"}
    documented = set()
    for _path, _method, operation in operations(schema):
        for status in operation["responses"]:
            if int(status) >= 400:
                documented |= set(documented_codes(schema, operation, status))
    assert documented <= known
    assert documented <= set(CODE_DESCRIPTIONS)
    # A new code in an app's errors.py must be declared on the operations that answer it.
    assert known - documented - NOT_REST_CODES <= {"method_not_allowed", "server_error", "service_unavailable"}


def _error_schema(schema, codes):
    error = copy.deepcopy(schema["components"]["schemas"]["Error"])
    error["properties"]["code"] = {"type": "string", "enum": codes}
    return error


@pytest.mark.django_db
def test_real_error_answers_are_documented(schema, api_client):
    """Real error answers: their body is an Error and their code is one the operation documents."""
    student, admin = StudentFactory(), AdminFactory()
    SubjectFactory(name="Physics")
    cases = [
        ("post", "/api/auth/login/", api_client, {"email": "nobody@example.test", "password": "x"}, 401),
        ("get", "/api/profile/me/", api_client, None, 401),
        ("get", "/api/admin/users/", client_for(student), None, 403),
        ("get", "/api/admin/users/?role=wizard", client_for(admin), None, 400),
        ("get", "/api/materials/subjects/?page=99", client_for(student), None, 404),
        ("post", "/api/materials/subjects/", client_for(admin), {"name": "Physics"}, 409),
        ("patch", "/api/profile/me/", client_for(student), {"profile": {"grade": "tall"}}, 400),
        ("post", "/api/chat/rooms/", client_for(student), {"kind": "direct", "user": student.pk}, 400),
        ("post", "/api/profile/me/telegram/", client_for(student), None, 503),
    ]
    templates = {
        "/api/admin/users/?role=wizard": "/api/admin/users/",
        "/api/materials/subjects/?page=99": "/api/materials/subjects/",
    }
    for method, url, client, body, status in cases:
        response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
        assert response.status_code == status, (url, response.content)
        operation = find_operation(schema, method, templates.get(url, url))
        codes = documented_codes(schema, operation, status)
        jsonschema.validate(response.json(), _error_schema(schema, codes))

    malformed = api_client.post("/api/auth/login/", "{", content_type="application/json")
    assert malformed.status_code == 400
    login = find_operation(schema, "post", "/api/auth/login/")
    jsonschema.validate(malformed.json(), _error_schema(schema, documented_codes(schema, login, 400)))


# --- profile typed by role -------------------------------------------------------------------------------------
def test_user_is_one_variant_per_role_with_its_profile(schema):
    schemas = schema["components"]["schemas"]
    user = schemas["User"]
    assert user["discriminator"]["propertyName"] == "role"
    assert set(user["discriminator"]["mapping"]) == set(Role.values)
    profiles = {
        Role.STUDENT: "StudentProfile",
        Role.TEACHER: "TeacherProfile",
        Role.TUTOR: "TutorProfile",
        Role.PARENT: "ParentProfile",
    }
    for role, ref in user["discriminator"]["mapping"].items():
        variant = resolve(schema, {"$ref": ref})
        assert resolve(schema, variant["properties"]["role"]["allOf"][0])["enum"] == [role]
        profile = variant["properties"]["profile"]
        if role in profiles:
            assert profile["allOf"] == [{"$ref": f"#/components/schemas/{profiles[role]}"}]
        else:
            assert profile["nullable"] is True
    # Everywhere a user with their profile is rendered.
    login = find_operation(schema, "post", "/api/auth/login/")
    login_response = resolve(schema, login["responses"]["200"]["content"]["application/json"]["schema"])
    assert login_response["properties"]["user"] == {"$ref": "#/components/schemas/User"}
    admin_get = find_operation(schema, "get", "/api/admin/users/{id}/")
    assert admin_get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/User"
    }
    assert "discriminator" in schemas["AdminUserCreated"]


def _as_json_schema(node):
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.mark.django_db
def test_profile_me_answers_match_the_typed_user(schema):
    document = {"$ref": "#/components/schemas/User", "components": _as_json_schema(schema["components"])}
    validator = jsonschema.Draft202012Validator(document)
    for factory in (StudentFactory, TeacherFactory, TutorFactory, ParentFactory, AdminFactory):
        user = factory()
        body = client_for(user).get("/api/profile/me/").json()
        # oneOf: the answer matches its role's variant and no other.
        assert not list(validator.iter_errors(body)), (user.role, body)
        assert list(validator.iter_errors({**body, "role": "wizard"}))
        if user.role != Role.ADMIN:
            assert body["profile"] is not None
            assert list(validator.iter_errors({**body, "profile": None})), user.role


# --- list parameters -------------------------------------------------------------------------------------------
def _query_names(operation) -> set[str]:
    return {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"}


def test_list_parameters_only_where_honoured(schema):
    seen_actions = set()
    for path, method, operation in operations(schema):
        operation_id, names = operation["operationId"], _query_names(operation)
        where = f"{method.upper()} {path}"
        if operation_id in LIST_OPERATIONS:
            assert {"page", "page_size"} <= names, where
        elif operation_id in ACTION_QUERY_PARAMETERS:
            assert names == ACTION_QUERY_PARAMETERS[operation_id], where
            seen_actions.add(operation_id)
        else:
            assert not names, (where, names)
    assert seen_actions == set(ACTION_QUERY_PARAMETERS)


def test_ordering_lists_its_values(schema):
    expected = {
        "admin_users_list": ["id", "email", "last_name", "date_joined"],
        "assignments_list": ["due_at", "created_at", "title"],
        "invoices_list": ["created_at", "due_date", "amount", "status"],
        "materials_list": ["created_at", "updated_at", "title"],
        "materials_enrollments_list": ["created_at", "started_at", "id"],
        "materials_subjects_list": ["name", "id"],
        "scheduling_lessons_list": ["start", "end"],
    }
    with_ordering = {}
    for _path, _method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "ordering":
                assert parameter["schema"]["type"] == "array"
                assert parameter["explode"] is False  # ?ordering=a,-b
                with_ordering[operation["operationId"]] = parameter["schema"]["items"]["enum"]
    assert set(with_ordering) <= LIST_OPERATIONS
    for operation_id, fields in expected.items():
        assert with_ordering[operation_id] == [value for field in fields for value in (field, f"-{field}")]
    search = {
        operation["operationId"]
        for _path, _method, operation in operations(schema)
        if "search" in _query_names(operation)
    }
    # Only the views that name search fields (chat rooms and enrollments name none).
    assert search == {
        "admin_users_list",
        "assignments_list",
        "invoices_list",
        "materials_list",
        "materials_subjects_list",
        "scheduling_lessons_list",
    }


@pytest.mark.django_db
def test_every_documented_ordering_value_is_accepted(schema):
    """The enum is what the API accepts: each value answers 200 (admins see every list but the gradebook)."""
    clients = {"invoices_list": client_for(AdminFactory()), "default": client_for(AdminFactory())}
    for path, _method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] != "ordering":
                continue
            client = clients.get(operation["operationId"], clients["default"])
            for value in parameter["schema"]["items"]["enum"]:
                response = client.get(path, {"ordering": value})
                assert response.status_code == 200, (path, value, response.content)


# --- one schema per process, safe under parallel requests --------------------------------------------------------
def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_schema_endpoint_under_parallel_requests(schema, live_server):
    """Per-request generation answered ~10 % 500s and incomplete schemas with 8 parallel clients: now the first
    request generates the schema under a lock and the others get the same one."""
    with schema_view._lock:
        schema_view._schemas.clear()
    clients, rounds = 8, 4
    start = threading.Barrier(clients)
    url = live_server.url + "/api/schema/?format=json"

    def client(_):
        start.wait()  # all clients ask at once, while the schema is not generated yet
        return [_fetch(url) for _ in range(rounds)]

    with ThreadPoolExecutor(clients) as pool:
        results = [result for batch in pool.map(client, range(clients)) for result in batch]
    assert [status for status, _ in results] == [200] * clients * rounds
    bodies = {body for _, body in results}
    assert len(bodies) == 1
    assert json.loads(bodies.pop()) == json.loads(json.dumps(schema))  # the same as `manage.py spectacular`
    assert len(schema_view._schemas) == 1
