"""Who sees which materials, by role (the selector and the API agree)."""

import pytest

from materials.models import MaterialStatus
from materials.selectors import materials_visible_to
from tests.accounts.factories import StudentFactory, TutorFactory, link_student
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def materials(room):
    """For the whole class (T, math), named (T, math, S2 only), a draft and an archived one of T, and one of T2."""
    return {
        "class": MaterialFactory(subject=room.math, author=room.teacher),
        "named": MaterialFactory(subject=room.math, author=room.teacher, assigned_to=[room.s2]),
        "draft": MaterialFactory(subject=room.math, author=room.teacher, status=MaterialStatus.DRAFT),
        "archived": MaterialFactory(subject=room.math, author=room.teacher, status=MaterialStatus.ARCHIVED),
        "other": MaterialFactory(subject=room.math, author=room.other_teacher),
    }


EXPECTED = {
    "teacher": {"class", "named", "draft", "archived"},
    "other_teacher": {"other"},
    "s1": {"class"},
    "s2": {"class", "named"},
    # A student of another teacher in the same subject sees only that teacher's materials.
    "s3": {"other"},
    "tutor": {"class"},
    "parent": {"class"},
    # The parent of another student sees that student's materials only.
    "other_parent": {"other"},
    "admin": {"class", "named", "draft", "archived", "other"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_list_by_role(make_client, room, materials, who):
    user = getattr(room, who)
    response = make_client(user).get("/api/materials/")
    assert response.status_code == 200
    names = {
        name for name, material in materials.items() if material.pk in {m["id"] for m in response.json()["results"]}
    }
    assert names == EXPECTED[who]
    assert response.json()["count"] == len(EXPECTED[who])
    assert {m.pk for m in materials_visible_to(user)} == {materials[name].pk for name in EXPECTED[who]}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_detail_by_role_is_404_when_not_visible(make_client, room, materials, who):
    client = make_client(getattr(room, who))
    missing = client.get("/api/materials/999999/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    for name, material in materials.items():
        response = client.get(f"/api/materials/{material.pk}/")
        if name in EXPECTED[who]:
            assert response.status_code == 200, (who, name)
        else:
            # A foreign material answers exactly like a missing one.
            assert (response.status_code, response.json()) == (404, missing.json()), (who, name)


def test_a_tutor_sees_nothing_of_a_student_they_do_not_supervise(make_client, room, materials):
    stranger_tutor = TutorFactory()
    assert make_client(stranger_tutor).get("/api/materials/").json()["count"] == 0


def test_ending_an_enrollment_stops_the_class_materials(make_client, room, materials):
    room.s1.enrollments.update(is_active=False)
    assert make_client(room.s1).get("/api/materials/").json()["count"] == 0
    assert make_client(room.parent).get("/api/materials/").json()["count"] == 0


def test_a_student_enrolled_with_the_author_in_another_subject_does_not_receive(make_client, room, materials):
    physics = SubjectFactory(name="Physics")
    newcomer = StudentFactory()
    EnrollmentFactory(student=newcomer, subject=physics, teacher=room.teacher)
    assert make_client(newcomer).get("/api/materials/").json()["count"] == 0


def test_parent_of_two_children_sees_both_childrens_materials_once(make_client, room, materials):
    link_student(room.s2, parent=room.parent)
    response = make_client(room.parent).get("/api/materials/")
    ids = [m["id"] for m in response.json()["results"]]
    assert sorted(ids) == sorted([materials["class"].pk, materials["named"].pk])


def test_assigned_to_shows_only_the_viewers_students(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher, assigned_to=[room.s1, room.s2])
    seen = {
        who: make_client(getattr(room, who)).get(f"/api/materials/{material.pk}/").json()["assigned_to"]
        for who in ("teacher", "admin", "s1", "s2", "tutor", "parent")
    }
    both = sorted([room.s1.pk, room.s2.pk])
    assert sorted(seen["teacher"]) == both
    assert sorted(seen["admin"]) == both
    assert seen["s1"] == [room.s1.pk]
    assert seen["s2"] == [room.s2.pk]
    assert seen["tutor"] == [room.s1.pk]
    assert seen["parent"] == [room.s1.pk]


def test_only_students_get_progress_inline(make_client, room, materials):
    for who in ("teacher", "tutor", "parent", "admin"):
        item = make_client(getattr(room, who)).get(f"/api/materials/{materials['class'].pk}/").json()
        assert "progress" not in item
    item = make_client(room.s1).get(f"/api/materials/{materials['class'].pk}/").json()
    assert item["progress"] == {"percent": 0, "time_spent_seconds": 0, "last_opened_at": None, "completed_at": None}


def test_anonymous_is_401(api_client, materials):
    assert api_client.get("/api/materials/").status_code == 401
