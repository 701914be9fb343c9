"""Mass assignment: hypothesis adds privileged fields to the valid body of every JSON write operation, as every role
the role table lets write it, and no privileged field is ever taken. Candidates come from the models (role,
is_staff, is_superuser, is_active, status, amount, paid_at, score, and every person link: author, teacher, tutor,
parent, student, sender, created_by, graded_by, cancelled_by) with values nobody would get legitimately from
these calls (family B's people, status "paid", year 2001, ...). A field the operation's schema lists as writable is
left out (it is the operation's own). "Never taken" is read from the database: no row gains the injected value.
The answer may be 400 or the field ignored (the project ignores unknown and read-only fields, DRF's rule); both
pass, the stored rows decide."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from assignments.models import Assignment, Submission
from chat.models import ChatRoom, Message
from enrollments.models import Enrollment
from invoices.models import Invoice
from materials.models import Material
from scheduling.models import Lesson
from tests.security.bodies import BODIES, body_for
from tests.security.probe import call
from tests.security.role_table import COLUMNS, ROLE_TABLE
from tests.security.world import OPERATIONS, SCHEMA, build_world, clients, fill, split

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)


def privileged(world) -> dict[str, tuple[object, list[tuple[type, str, object]]]]:
    """Injected name → (value sent, [(model, field, stored value that would show it was taken)])."""
    b = world.b
    person = {m: [f.name for f in m._meta.concrete_fields if f.is_relation and f.related_model is User] for m in MODELS}

    def links(name, user):
        return (user.pk, [(model, name, user.pk) for model, names in person.items() if name in names])

    return {
        "role": ("admin", [(User, "role", "admin")]),
        "is_staff": (True, [(User, "is_staff", True)]),
        "is_superuser": (True, [(User, "is_superuser", True)]),
        "is_active": (False, [(User, "is_active", False)]),
        "status": ("paid", [(Invoice, "status", "paid")]),
        "amount": ("99999.00", [(Invoice, "amount", Decimal("99999.00"))]),
        "paid_at": (LONG_AGO.isoformat(), [(Invoice, "paid_at", LONG_AGO)]),
        "score": ("10", [(Submission, "score", Decimal("10"))]),
        "author": links("author", b.teacher),
        "teacher": links("teacher", b.teacher),
        "tutor": links("tutor", b.tutor),
        "parent": links("parent", b.parent),
        "student": links("student", b.student),
        "sender": links("sender", b.teacher),
        "created_by": links("created_by", b.tutor),
        "graded_by": links("graded_by", b.teacher),
        "cancelled_by": links("cancelled_by", b.parent),
    }


MODELS = [User, Assignment, Submission, ChatRoom, Message, Invoice, Material, Enrollment, Lesson]
NAMES = ["role", "is_staff", "is_superuser", "is_active", "status", "amount", "paid_at", "score", "author",
         "teacher", "tutor", "parent", "student", "sender", "created_by", "graded_by", "cancelled_by"]  # fmt: skip


def _writable(key: str) -> set[str]:
    content = OPERATIONS[key].get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return {name for name, prop in schema.get("properties", {}).items() if not prop.get("readOnly")}


# (operation, role) pairs that write: JSON bodies the role table answers "ok" for.
WRITES = [
    (key, column)
    for key, row in sorted(ROLE_TABLE.items())
    if split(key)[0] in ("post", "put", "patch") and key in BODIES and not key.startswith("POST /api/auth/login")
    for column, cell in zip(COLUMNS, row, strict=True)
    if cell == "ok" and column != "anonymous"
]


def _counts(checks) -> dict:
    return {(m.__name__, f, str(v)): m.objects.filter(**{f: v}).count() for m, f, v in checks}


def test_privileged_fields_are_never_taken_by_any_write():
    world = build_world()
    actors = clients(world)
    candidates = privileged(world)
    taken = []

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.sets(st.sampled_from(NAMES), min_size=1, max_size=6))
    def attempt(names):
        for key, role in WRITES:
            body, fmt = body_for(key, world)
            if fmt != "json":
                continue
            injected = {name: candidates[name][0] for name in names if name not in _writable(key)}
            if not injected:
                continue
            checks = [check for name in injected for check in candidates[name][1]]
            state = {}

            def measure(response, state=state, checks=checks):
                state["after"] = _counts(checks)

            before = _counts(checks)
            response = call(actors[role], key, fill(split(key)[1], world.a), {**body, **injected}, fmt, after=measure)
            grown = {k: (before[k], state["after"][k]) for k in before if state["after"][k] > before[k]}
            if grown:
                taken.append(f"{key} as {role} with {sorted(injected)}: {response.status_code} {grown}")

    attempt()
    print(f"mass assignment: {len(WRITES)} (operation, role) writes")
    assert taken == [], "\n".join(taken)
