"""Two seeded families and the schema walk shared by the access-control proofs (docs/security.md "Access control").

Family A and family B each have a subject, a student, their tutor and parent, a teacher, an enrollment, a
material, a lesson, an assignment with an attachment and a submission with a file, an invoice (sent), a group
chat room with a message. One admin sees everything. Every text of family B carries the marker FAMB (names,
emails, titles, texts), so a response shown to family A that contains it leaks foreign data. The operations come
from the OpenAPI schema (tests/config/test_input_bounds.py walks the same schema for hostile values): a new
endpoint is in every sweep.
"""

from types import SimpleNamespace

from django.db import connection

from accounts.models import Role
from assignments.models import AssignmentAttachment
from chat.models import Message
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TeacherFactory, TutorFactory
from tests.assignments.factories import AssignmentFactory, hand_in
from tests.chat.factories import group_room
from tests.config.test_input_bounds import SCHEMA, _operations
from tests.conftest import client_for
from tests.files.samples import pdf
from tests.invoices.factories import sent_invoice
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory
from tests.scheduling.factories import in_hours, make_lesson

ROLES = [Role.STUDENT, Role.TEACHER, Role.TUTOR, Role.PARENT, Role.ADMIN]
ACTORS = ["anonymous", *ROLES]
FAMILY_ROLES = [Role.STUDENT, Role.TEACHER, Role.TUTOR, Role.PARENT]
MARKER = "FAMB"
MISSING = 2**62  # a well-formed id that no row has

# Every operation of the schema: "METHOD /path".
OPERATIONS = {f"{method.upper()} {path}": operation for path, method, operation in _operations()}
PUBLIC = {key for key, operation in OPERATIONS.items() if not any(operation.get("security") or [{}])}


def split(key: str) -> tuple[str, str]:
    method, path = key.split(" ", 1)
    return method.lower(), path


def path_params(key: str) -> list[str]:
    return [p["name"] for p in OPERATIONS[key].get("parameters", []) if p["in"] == "path"]


def _family(tag: str, admin) -> SimpleNamespace:
    mark = MARKER if tag == "B" else "Fama"

    def named(factory, role):
        return factory(first_name=f"{mark}{role}", last_name=f"{mark}Family", email=f"{role}.{tag.lower()}@{mark}.test")

    subject = SubjectFactory()  # no marker: the subject catalogue is everyone's to read
    student, teacher = named(StudentFactory, "student"), named(TeacherFactory, "teacher")
    tutor, parent = named(TutorFactory, "tutor"), named(ParentFactory, "parent")
    profile = student.student_profile
    profile.tutor, profile.parent = tutor, parent
    profile.save()
    enrollment = EnrollmentFactory(student=student, teacher=teacher, subject=subject)
    material = MaterialFactory(author=teacher, subject=subject, title=f"{mark} material", content=f"{mark} content")
    lesson = make_lesson(enrollment, start=in_hours(48 if tag == "A" else 72))
    assignment = AssignmentFactory(teacher=teacher, subject=subject, title=f"{mark} homework", description=mark)
    attachment = AssignmentAttachment.objects.create(
        assignment=assignment,
        file=pdf(f"{mark}.pdf"),
        name=f"{mark}.pdf",
        content_type="application/pdf",
        size=10,
        uploaded_by=teacher,
    )
    submission = hand_in(assignment, student, text=f"{mark} answer", files=[pdf(f"{mark}-work.pdf")])
    submission_file = submission.attempts.get().files.get()
    invoice = sent_invoice(tutor=tutor, parent=parent, student=student, description=f"{mark} lessons")
    room = group_room(teacher, student, tutor, parent, admin, name=f"{mark} room")
    message = Message.objects.create(room=room, sender=teacher, text=f"{mark} hello", client_id=f"{tag}-1")
    users = {Role.STUDENT: student, Role.TEACHER: teacher, Role.TUTOR: tutor, Role.PARENT: parent}
    return SimpleNamespace(**locals())


def build_world() -> SimpleNamespace:
    admin = AdminFactory(first_name="Ada", last_name="Admin", email="admin@staff.test")
    a, b = _family("A", admin), _family("B", admin)
    users = {**a.users, Role.ADMIN: admin}
    other_subject = SubjectFactory()  # nobody is enrolled in it yet
    return SimpleNamespace(a=a, b=b, admin=admin, subject=a.subject, other_subject=other_subject, users=users)


def clients(world) -> dict:
    """An authenticated client per role of family A (the admin for admin), plus "anonymous"."""
    from rest_framework.test import APIClient

    return {"anonymous": APIClient(), **{role: client_for(user) for role, user in world.users.items()}}


def object_ids(family) -> dict[str, int]:
    """The id a path's `{id}` takes for this family's object, by the path before it (the longest match wins)."""
    return {
        "/api/admin/users/": family.student.pk,
        "/api/assignments/submissions/": family.submission.pk,
        "/api/assignments/": family.assignment.pk,
        "/api/chat/messages/": family.message.pk,
        "/api/chat/rooms/": family.room.pk,
        "/api/invoices/": family.invoice.pk,
        "/api/materials/enrollments/": family.enrollment.pk,
        "/api/materials/subjects/": family.subject.pk,
        "/api/materials/": family.material.pk,
        "/api/scheduling/lessons/": family.lesson.pk,
    }


def path_values(path: str, family) -> dict[str, int]:
    """Each `{param}` of the path → this family's object: `{id}` by the path before it, the nested ids by name."""
    ids = object_ids(family)
    nested = {
        "attachment_id": family.attachment.pk,
        "file_id": family.submission_file.pk,
        "line_id": family.invoice.lines.get().pk,
    }
    values = {}
    for part in path.split("{")[1:]:
        name = part.split("}", 1)[0]
        before = path.split("{" + name + "}", 1)[0]
        known = [prefix for prefix in ids if before.startswith(prefix)]
        values[name] = nested.get(name) or (ids[max(known, key=len)] if known else MISSING)
    return values


def fill(path: str, family, **override) -> str:
    """The path with each `{param}` set to this family's object (or `override[param]`)."""
    for name, value in {**path_values(path, family), **override}.items():
        path = path.replace("{" + name + "}", str(value))
    return path


_FINGERPRINT_SQL: dict[str, list[tuple[str, str]]] = {}


def _fingerprint_sql() -> list[tuple[str, str]]:
    """One SELECT per table (count, max id, max timestamps), built once per database from introspection."""
    key = connection.settings_dict["NAME"]
    if key not in _FINGERPRINT_SQL:
        selects = []
        with connection.cursor() as cursor:
            for table in sorted(connection.introspection.table_names()):
                values = ["COUNT(*)"]
                for column in connection.introspection.get_table_description(cursor, table):
                    if column.name not in ("id", "updated_at", "created_at", "last_activity_at"):
                        continue
                    name = connection.ops.quote_name(column.name)
                    kind = connection.introspection.get_field_type(column.type_code, column)
                    # PostgreSQL has no max() of a uuid: compare those as text
                    values.append(f"MAX(CAST({name} AS VARCHAR(64)))" if "UUID" in kind else f"MAX({name})")
                values = ", ".join(values)
                selects.append((table, f"SELECT {values} FROM {connection.ops.quote_name(table)}"))  # noqa: S608
        _FINGERPRINT_SQL[key] = selects
    return _FINGERPRINT_SQL[key]


def fingerprint() -> dict:
    """Cheap database fingerprint: per table, row count, max(id) and the max of its update/create timestamps."""
    result = {}
    with connection.cursor() as cursor:
        for table, select in _fingerprint_sql():
            cursor.execute(select)
            result[table] = tuple(str(v) for v in cursor.fetchone())
    return result


def fingerprint_diff(before: dict, after: dict) -> dict:
    return {
        table: (before.get(table), after.get(table))
        for table in set(before) | set(after)
        if before.get(table) != after.get(table)
    }


__all__ = ["SCHEMA"]
