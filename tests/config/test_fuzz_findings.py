"""What the API fuzzing (tests/fuzz/) found, each pinned by a fast test: boolean filters that read an unknown value
as "no filter", text fields that took a JSON number, query serializers that refused an empty parameter the rest of
the API reads as absent, and a schema that promised what the app does not do (multipart bodies everywhere, empty
values refused, `page_size` never refused, a decimal never a number, downloads as octet-stream only)."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from accounts.models import User
from chat.services import message_post
from enrollments.models import Subject
from tests.accounts.factories import StudentFactory
from tests.chat.factories import group_room


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    target = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--file", str(target), stdout=StringIO())
    return yaml.safe_load(target.read_text())


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


@pytest.mark.parametrize("value", ["null", "yes", "2", "truee", "\u00b2"])
def test_boolean_filters_refuse_anything_but_true_or_false(make_client, admin_user, value):
    client = make_client(admin_user)
    for url in ["/api/admin/users/", "/api/materials/enrollments/"]:
        response = client.get(url, {"is_active": value})
        assert response.status_code == 400, (url, value)
        assert response.json()["code"] == "invalid"
        assert list(response.json()["fields"]) == ["is_active"]


def test_boolean_filters_still_filter_and_an_empty_value_is_no_filter(make_client, admin_user):
    inactive = StudentFactory(is_active=False)
    client = make_client(admin_user)
    ids = lambda query: {row["id"] for row in client.get(f"/api/admin/users/{query}").json()["results"]}  # noqa: E731
    assert inactive.pk in ids("?is_active=false") and inactive.pk not in ids("?is_active=true")
    assert inactive.pk in ids("?is_active=FALSE")
    assert ids("?is_active=") == ids("")


@pytest.mark.parametrize("value", [0, 5, 1.5])
def test_a_text_field_refuses_a_json_number_and_nothing_changes(make_client, admin_user, value):
    client = make_client(admin_user)
    response = client.post("/api/materials/subjects/", {"name": "Chemistry", "description": value}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == {"description": ["Not a valid string."]}
    assert not Subject.objects.filter(name="Chemistry").exists()
    response = client.patch("/api/profile/me/", {"first_name": value}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["first_name"]
    assert User.objects.get(pk=admin_user.pk).first_name == admin_user.first_name


def test_text_fields_still_take_text(make_client, admin_user):
    client = make_client(admin_user)
    response = client.post("/api/materials/subjects/", {"name": "Chemistry", "description": "5"}, format="json")
    assert response.status_code == 201 and response.json()["description"] == "5"


def test_empty_history_parameters_are_the_same_as_none(make_client, student, teacher):
    room = group_room(teacher, student)
    message_post(sender=teacher, room_id=room.pk, text="hello", client_id="c1")
    client = make_client(student)
    url = f"/api/chat/rooms/{room.pk}/messages/"
    response = client.get(url + "?before=&after=&limit=")
    assert response.status_code == 200
    assert response.json() == client.get(url).json()


def test_an_empty_gradebook_filter_is_no_filter(make_client, teacher):
    client = make_client(teacher)
    response = client.get("/api/assignments/gradebook/?subject=&student=")
    assert response.status_code == 200
    assert response.json() == client.get("/api/assignments/gradebook/").json()


def test_the_schema_offers_multipart_only_where_a_file_goes_up(schema):
    multipart = set()
    for path, method, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:
            multipart.add(f"{method.upper()} {path}")
    assert multipart == {
        "POST /api/materials/",
        "PATCH /api/materials/{id}/",
        "POST /api/assignments/{id}/attachments/",
        "POST /api/assignments/{id}/submissions/",
        "POST /api/chat/rooms/{id}/messages/",
    }


def test_optional_query_parameters_allow_an_empty_value_and_page_size_is_checked(schema):
    for path, method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("allowEmptyValue") is True, (method, path, parameter["name"])
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if "page_size" in names:
            assert "400" in operation["responses"], (method, path)


def test_downloads_answer_any_media_type_and_decimals_are_read_from_numbers_too(schema):
    download = schema["paths"]["/api/materials/{id}/file/"]["get"]["responses"]["200"]["content"]
    assert list(download) == ["*/*"]
    score = schema["components"]["schemas"]["GradeRequest"]["properties"]["score"]
    assert [branch["type"] for branch in score["oneOf"]] == ["string", "number"]
    url = schema["components"]["schemas"]["Material"]["properties"]["url"]
    assert {"type": "string", "maxLength": 0} in url["oneOf"]
