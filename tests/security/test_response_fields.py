"""Every GET operation's real answers, as each of the five roles, hold only the fields the allow-list
(tests/security/response_fields.py) gives that role; and no answer to a non-admin shows an email but the
caller's own."""

import json

import pytest

from tests.security.fields import answer_paths
from tests.security.probe import call
from tests.security.response_fields import RESPONSE_FIELDS
from tests.security.world import OPERATIONS, ROLES, build_world, clients, fill, split

pytestmark = pytest.mark.django_db

GETS = sorted(key for key in OPERATIONS if key.startswith("GET "))


def test_every_get_operation_has_an_entry_and_every_entry_an_operation():
    assert sorted(set(GETS) - set(RESPONSE_FIELDS)) == []
    assert sorted(set(RESPONSE_FIELDS) - set(GETS)) == []


def _strings(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)
    elif isinstance(value, str):
        yield value


def test_answers_hold_only_the_allowed_fields_and_no_other_users_email():
    world = build_world()
    actors = clients(world)
    emails = {user.email for family in (world.a, world.b) for user in family.users.values()} | {world.admin.email}
    extra, leaked = {}, {}
    for key in GETS:
        url = fill(split(key)[1], world.a)
        allowed = RESPONSE_FIELDS[key]
        for role in ROLES:
            response = call(actors[role], key, url)
            unexpected = answer_paths(response) - set(allowed["*"]) - set(allowed.get(str(role), []))
            if unexpected:
                extra[f"{key} as {role}"] = sorted(unexpected)
            if role != "admin" and response.get("content-type", "").startswith("application/json"):
                own = world.users[role].email
                shown = {text for text in _strings(json.loads(response.body)) if text in emails - {own}}
                if shown:
                    leaked[f"{key} as {role}"] = sorted(shown)
    print(f"response fields: {len(GETS)} GET operations x {len(ROLES)} roles")
    assert extra == {}, "fields not in tests/security/response_fields.py"
    assert leaked == {}, "another user's email shown to a non-admin"
