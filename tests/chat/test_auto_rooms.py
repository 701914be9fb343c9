"""Rooms made from enrollments and student links, through every write path that calls chat after its commit (the
services, the Django admin), and the interfaces other apps use."""

import pytest
from django.test import Client

from chat.models import ChatRoom, Message, Participant, RoomKind
from chat.selectors import subject_room_for
from chat.services import rooms_sync_for_student, system_message_post
from materials.services import enrollment_create
from people.services import user_update
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db


def members(room) -> dict[int, bool]:
    return dict(Participant.objects.filter(room=room).values_list("user_id", "read_only"))


def test_an_enrollment_made_by_the_service_makes_a_subject_room_with_tutor_reading(
    django_capture_on_commit_callbacks,
):
    tutor = TutorFactory()
    student = link_student(StudentFactory(), tutor=tutor)
    teacher, subject = TeacherFactory(), SubjectFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrollment_create(
            by=AdminFactory(), student_id=student.pk, subject_id=subject.pk, teacher_id=teacher.pk
        )
    room = subject_room_for(student.pk, enrollment.teacher_id, enrollment.subject_id)
    assert room is not None
    assert room.kind == RoomKind.SUBJECT
    assert room.name == enrollment.subject.name
    assert members(room) == {student.pk: False, enrollment.teacher_id: False, tutor.pk: True}


def test_an_enrollment_added_in_the_django_admin_makes_its_subject_room(django_capture_on_commit_callbacks):
    student, teacher, subject = StudentFactory(), TeacherFactory(), SubjectFactory()
    browser = Client()
    browser.force_login(AdminFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/admin/enrollments/enrollment/add/",
            {
                "student": student.pk,
                "subject": subject.pk,
                "teacher": teacher.pk,
                "is_active": "on",
                "started_at": "2026-09-01",
            },
        )
    assert response.status_code == 302, response.content[:2000]
    room = subject_room_for(student.pk, teacher.pk, subject.pk)
    assert members(room) == {student.pk: False, teacher.pk: False}


def test_an_enrollment_ended_in_the_django_admin_keeps_its_room_and_a_new_one_gets_another(
    django_capture_on_commit_callbacks,
):
    enrollment = EnrollmentFactory()
    rooms_sync_for_student(enrollment.student)
    browser = Client()
    browser.force_login(AdminFactory())
    other_teacher = TeacherFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"/admin/enrollments/enrollment/{enrollment.pk}/change/",
            {
                "student": enrollment.student_id,
                "subject": enrollment.subject_id,
                "teacher": other_teacher.pk,
                "is_active": "on",
                "started_at": "2026-09-01",
            },
        )
    assert response.status_code == 302, response.content[:2000]
    assert subject_room_for(enrollment.student_id, enrollment.teacher_id, enrollment.subject_id) is not None
    room = subject_room_for(enrollment.student_id, other_teacher.pk, enrollment.subject_id)
    assert members(room) == {enrollment.student_id: False, other_teacher.pk: False}


def test_links_set_by_the_people_service_make_direct_rooms_student_tutor_and_parent_tutor(
    django_capture_on_commit_callbacks,
):
    tutor, parent, student = TutorFactory(), ParentFactory(), StudentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        user_update(user=student, data={}, profile={"tutor": tutor, "parent": parent}, by_admin=True)
    pairs = sorted(tuple(sorted(members(room))) for room in ChatRoom.objects.filter(kind=RoomKind.DIRECT))
    assert pairs == sorted([tuple(sorted((student.pk, tutor.pk))), tuple(sorted((parent.pk, tutor.pk)))])


def test_sync_is_idempotent():
    tutor, parent = TutorFactory(), ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    EnrollmentFactory(student=student)
    EnrollmentFactory(student=student)
    rooms_sync_for_student(student)
    snapshot = sorted(Participant.objects.values_list("room_id", "user_id", "read_only"))
    assert ChatRoom.objects.count() == 4
    rooms_sync_for_student(student)
    rooms_sync_for_student(student.pk)
    assert ChatRoom.objects.count() == 4
    assert sorted(Participant.objects.values_list("room_id", "user_id", "read_only")) == snapshot


def test_tutor_change_moves_read_access_and_keeps_history():
    old_tutor, new_tutor = TutorFactory(), TutorFactory()
    student = link_student(StudentFactory(), tutor=old_tutor)
    enrollment = EnrollmentFactory(student=student)
    rooms_sync_for_student(student)
    room = subject_room_for(student.pk, enrollment.teacher_id, enrollment.subject_id)
    link_student(student, tutor=new_tutor)
    rooms_sync_for_student(student)
    assert members(room) == {student.pk: False, enrollment.teacher_id: False, new_tutor.pk: True}
    # The new tutor takes the direct room with the student over, history and all (tests/chat/test_family_rooms.py).
    (direct,) = ChatRoom.objects.filter(kind=RoomKind.DIRECT)
    assert members(direct) == {student.pk: False, new_tutor.pk: False}


def test_ended_enrollment_keeps_its_room_and_a_new_teacher_gets_another():
    student = StudentFactory()
    first = EnrollmentFactory(student=student)
    rooms_sync_for_student(student)
    first.is_active = False
    first.save()
    second = EnrollmentFactory(student=student, subject=first.subject, teacher=TeacherFactory())
    rooms_sync_for_student(student)
    assert subject_room_for(student.pk, first.teacher_id, first.subject_id) is not None
    assert subject_room_for(student.pk, second.teacher_id, second.subject_id) is not None
    assert subject_room_for(student.pk, second.teacher_id, 999999) is None


def test_sync_ignores_non_students():
    rooms_sync_for_student(TeacherFactory())
    assert not ChatRoom.objects.exists()


def test_system_message_has_no_sender_and_updates_the_room(make_client):
    student = StudentFactory()
    enrollment = EnrollmentFactory(student=student)
    rooms_sync_for_student(student)
    room = subject_room_for(student.pk, enrollment.teacher_id, enrollment.subject_id)
    message = system_message_post(room=room, text="Assignment published: Fractions")
    assert message.sender is None
    assert Message.objects.get().text == "Assignment published: Fractions"
    listed = make_client(student).get("/api/chat/rooms/").json()["results"][0]
    assert listed["last_message"]["sender"] is None
    assert listed["unread_count"] == 1
