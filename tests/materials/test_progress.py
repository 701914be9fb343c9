"""Progress: students record theirs, it never goes backwards unless the teacher resets it; the dashboard."""

import pytest

from materials.models import MaterialProgress, MaterialStatus
from materials.services import progress_update
from tests.materials.factories import EnrollmentFactory, MaterialFactory, MaterialProgressFactory, SubjectFactory
from tests.shapes import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def material(room):
    return MaterialFactory(subject=room.math, author=room.teacher)


def _put(client, material, **data):
    return client.put(f"/api/materials/{material.pk}/progress/", data)


def test_student_records_progress(make_client, room, material):
    response = _put(make_client(room.s1), material, percent=40, time_spent_seconds=120)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["percent"] == 40
    assert body["time_spent_seconds"] == 120
    assert body["completed_at"] is None
    assert body["last_opened_at"] is not None
    assert (body["student"], body["material"]) == (person(room.s1), material.pk)
    inline = make_client(room.s1).get(f"/api/materials/{material.pk}/").json()["progress"]
    assert (inline["percent"], inline["time_spent_seconds"]) == (40, 120)


def test_progress_never_goes_backwards(make_client, room, material):
    client = make_client(room.s1)
    _put(client, material, percent=70, time_spent_seconds=300)
    body = _put(client, material, percent=30, time_spent_seconds=100).json()
    assert (body["percent"], body["time_spent_seconds"]) == (70, 300)
    body = _put(client, material, percent=80).json()
    assert (body["percent"], body["time_spent_seconds"]) == (80, 300)
    assert MaterialProgress.objects.filter(student=room.s1, material=material).count() == 1


def test_completed_at_is_set_at_100_once(make_client, room, material):
    client = make_client(room.s1)
    first = _put(client, material, percent=100).json()
    assert first["completed_at"] is not None
    again = _put(client, material, percent=100, time_spent_seconds=50).json()
    assert again["completed_at"] == first["completed_at"]
    assert again["percent"] == 100


@pytest.mark.parametrize(
    "payload",
    [{}, {"percent": -1}, {"percent": 101}, {"percent": "half"}, {"percent": 5, "time_spent_seconds": -3}],
)
def test_invalid_progress_is_400(make_client, room, material, payload):
    response = make_client(room.s1).put(f"/api/materials/{material.pk}/progress/", payload)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("who", ["teacher", "tutor", "parent", "admin"])
def test_only_students_record_progress(make_client, room, material, who):
    assert _put(make_client(getattr(room, who)), material, percent=10).status_code == 403
    assert not MaterialProgress.objects.exists()


def test_progress_on_a_material_the_student_does_not_receive_is_404(make_client, room, material):
    named = MaterialFactory(subject=room.math, author=room.teacher, assigned_to=[room.s2])
    draft = MaterialFactory(subject=room.math, author=room.teacher, status=MaterialStatus.DRAFT)
    assert _put(make_client(room.s3), material, percent=10).status_code == 404
    assert _put(make_client(room.s1), named, percent=10).status_code == 404
    assert _put(make_client(room.s1), draft, percent=10).status_code == 404
    assert not MaterialProgress.objects.exists()


def test_teacher_resets_progress(make_client, room, material):
    _put(make_client(room.s1), material, percent=100, time_spent_seconds=600)
    response = make_client(room.teacher).post(f"/api/materials/{material.pk}/progress/reset/", {"student": room.s1.pk})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["percent"], body["completed_at"], body["time_spent_seconds"]) == (0, None, 600)
    assert body["student"] == person(room.s1)  # written as an id, read back as the person
    # After a reset the student moves forward again from zero.
    assert _put(make_client(room.s1), material, percent=20).json()["percent"] == 20


def test_admin_resets_progress(make_client, room, material):
    MaterialProgressFactory(student=room.s1, material=material, percent=50)
    response = make_client(room.admin).post(f"/api/materials/{material.pk}/progress/reset/", {"student": room.s1.pk})
    assert response.json()["percent"] == 0


@pytest.mark.parametrize(("who", "status"), [("s1", 403), ("tutor", 403), ("parent", 403), ("other_teacher", 404)])
def test_others_cannot_reset(make_client, room, material, who, status):
    MaterialProgressFactory(student=room.s1, material=material, percent=50)
    response = make_client(getattr(room, who)).post(
        f"/api/materials/{material.pk}/progress/reset/", {"student": room.s1.pk}
    )
    assert response.status_code == status
    assert MaterialProgress.objects.get().percent == 50


def test_reset_of_a_student_who_does_not_receive_is_400(make_client, room, material):
    response = make_client(room.teacher).post(f"/api/materials/{material.pk}/progress/reset/", {"student": room.s3.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "not_a_recipient"
    assert not MaterialProgress.objects.exists()


def test_reset_keeps_working_when_the_student_left(make_client, room, material):
    MaterialProgressFactory(student=room.s1, material=material, percent=60)
    room.s1.enrollments.update(is_active=False)
    response = make_client(room.teacher).post(f"/api/materials/{material.pk}/progress/reset/", {"student": room.s1.pk})
    assert response.status_code == 200
    assert response.json()["percent"] == 0


def test_reset_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/materials/{id}/progress/reset/" in schema
    assert "/api/materials/progress/" in schema


def test_service_keeps_the_higher_values(room, material):
    progress_update(student=room.s1, material=material, percent=90, time_spent_seconds=10)
    progress = progress_update(student=room.s1, material=material, percent=10, time_spent_seconds=5)
    assert (progress.percent, progress.time_spent_seconds) == (90, 10)


# --- Dashboard -----------------------------------------------------------------------------------------
@pytest.fixture
def coursework(room):
    """Math (T): 3 materials for S1 (one named for S2 only, not counted), a draft (not counted).
    Physics (T): 1 material. S1 completed one math material, got 50 % in another, and 30 % in physics."""
    physics = SubjectFactory(name="Physics")
    EnrollmentFactory(student=room.s1, subject=physics, teacher=room.teacher)
    m1, m2, m3 = MaterialFactory.create_batch(3, subject=room.math, author=room.teacher)
    MaterialFactory(subject=room.math, author=room.teacher, assigned_to=[room.s2])
    MaterialFactory(subject=room.math, author=room.teacher, status=MaterialStatus.DRAFT)
    p1 = MaterialFactory(subject=physics, author=room.teacher)
    progress_update(student=room.s1, material=m1, percent=100)
    progress_update(student=room.s1, material=m2, percent=50)
    progress_update(student=room.s1, material=p1, percent=30)
    # Someone else's progress does not count.
    progress_update(student=room.s2, material=m3, percent=100)
    return physics


def test_student_dashboard_figures(make_client, room, coursework):
    response = make_client(room.s1).get("/api/materials/progress/")
    assert response.status_code == 200
    assert response.json() == {
        "student": person(room.s1),
        "subjects": [
            {"subject": {"id": room.math.pk, "name": "Math"}, "materials": 3, "completed": 1, "average_percent": 50.0},
            {
                "subject": {"id": coursework.pk, "name": "Physics"},
                "materials": 1,
                "completed": 0,
                "average_percent": 30.0,
            },
        ],
        "totals": {"materials": 4, "completed": 1, "average_percent": 45.0},
    }


def test_dashboard_of_a_student_with_nothing(make_client, room):
    body = make_client(room.s3).get("/api/materials/progress/").json()
    assert body == {
        "student": person(room.s3),
        "subjects": [],
        "totals": {"materials": 0, "completed": 0, "average_percent": 0.0},
    }


@pytest.mark.parametrize("who", ["tutor", "parent", "admin"])
def test_tutor_parent_admin_read_a_students_dashboard(make_client, room, coursework, who):
    client = make_client(getattr(room, who))
    body = client.get("/api/materials/progress/", {"student": room.s1.pk}).json()
    assert body["totals"] == {"materials": 4, "completed": 1, "average_percent": 45.0}
    assert client.get("/api/materials/progress/").status_code == 400


def test_dashboard_of_someone_elses_student_is_404(make_client, room, coursework):
    assert make_client(room.other_parent).get("/api/materials/progress/", {"student": room.s1.pk}).status_code == 404
    assert make_client(room.s2).get("/api/materials/progress/", {"student": room.s1.pk}).status_code == 404


def test_teachers_have_no_dashboard(make_client, room):
    assert make_client(room.teacher).get("/api/materials/progress/").status_code == 403


def test_dashboard_is_one_query_whatever_the_number_of_subjects(
    make_client, room, coursework, django_assert_num_queries
):
    client = make_client(room.s1)
    # The token with its user, then the figures in one.
    with django_assert_num_queries(2):
        client.get("/api/materials/progress/")


def test_author_reads_every_students_progress(make_client, room, material, django_assert_num_queries):
    progress_update(student=room.s1, material=material, percent=30, time_spent_seconds=60)
    progress_update(student=room.s2, material=material, percent=100)
    client = make_client(room.teacher)
    with django_assert_num_queries(3):  # the token, the material, the progress rows with their students
        response = client.get(f"/api/materials/{material.pk}/progress/")
    assert response.status_code == 200
    rows = {row["student"]["id"]: row for row in response.json()}
    assert set(rows) == {room.s1.pk, room.s2.pk}
    assert (rows[room.s1.pk]["percent"], rows[room.s1.pk]["time_spent_seconds"]) == (30, 60)
    assert rows[room.s2.pk]["completed_at"] is not None
    assert make_client(room.admin).get(f"/api/materials/{material.pk}/progress/").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("s1", 403), ("tutor", 403), ("parent", 403), ("other_teacher", 404)])
def test_others_cannot_read_every_students_progress(make_client, room, material, who, status):
    progress_update(student=room.s1, material=material, percent=30)
    assert make_client(getattr(room, who)).get(f"/api/materials/{material.pk}/progress/").status_code == status
