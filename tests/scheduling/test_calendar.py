"""The secret iCalendar feed, parsed back with the icalendar library."""

import hashlib

import icalendar
import pytest

from scheduling.models import CalendarFeed, LessonStatus
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, link_student
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours, make_lesson

CALENDAR = "/api/scheduling/calendar/"


def feed_path(client) -> str:
    response = client.get(CALENDAR)
    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith("http://testserver/api/scheduling/feed/") and url.endswith(".ics")
    return url.removeprefix("http://testserver")


def events(api_client, path) -> dict[str, icalendar.Event]:
    response = api_client.get(path, HTTP_ACCEPT="text/calendar")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.mark.django_db
def test_feed_serves_the_users_lessons_with_stable_uids(make_client, api_client, enrollment):
    lesson = make_lesson(enrollment, start=in_hours(24), topic="Derivatives", meeting_url="https://meet.example.test/x")
    cancelled = make_lesson(enrollment, start=in_hours(48), status=LessonStatus.CANCELLED, cancel_reason="Ill")
    make_lesson(EnrollmentFactory(student=StudentFactory(), teacher=TeacherFactory()), start=in_hours(24))  # not theirs
    path = feed_path(make_client(enrollment.student))

    first = events(api_client, path)  # anonymous: the secret is the credential
    assert set(first) == {f"lesson-{lesson.pk}@thebot.scheduling", f"lesson-{cancelled.pk}@thebot.scheduling"}
    event = first[f"lesson-{lesson.pk}@thebot.scheduling"]
    assert event.decoded("DTSTART") == lesson.start
    assert event.decoded("DTEND") == lesson.end
    assert "Derivatives" in str(event["SUMMARY"])
    assert str(event["URL"]) == "https://meet.example.test/x"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(first[f"lesson-{cancelled.pk}@thebot.scheduling"]["STATUS"]) == "CANCELLED"

    lesson.topic = "Integrals"
    lesson.save()
    second = events(api_client, path)
    assert set(second) == set(first)
    assert "Integrals" in str(second[f"lesson-{lesson.pk}@thebot.scheduling"]["SUMMARY"])


@pytest.mark.django_db
def test_parent_feed_has_the_childrens_lessons_and_tutor_feed_the_students(
    make_client, api_client, enrollment, parent, tutor
):
    other_child = link_student(StudentFactory(), parent=parent, tutor=tutor)
    lessons = [
        make_lesson(enrollment, start=in_hours(24)),
        make_lesson(EnrollmentFactory(student=other_child, teacher=TeacherFactory()), start=in_hours(24)),
    ]
    make_lesson(
        EnrollmentFactory(student=link_student(StudentFactory(), parent=ParentFactory()), teacher=TeacherFactory()),
        start=in_hours(24),
    )
    expected = {f"lesson-{lesson.pk}@thebot.scheduling" for lesson in lessons}
    assert set(events(api_client, feed_path(make_client(parent)))) == expected
    assert set(events(api_client, feed_path(make_client(tutor)))) == expected
    assert set(events(api_client, feed_path(make_client(enrollment.teacher)))) == {
        f"lesson-{lessons[0].pk}@thebot.scheduling"
    }


@pytest.mark.django_db
def test_same_url_until_rotated_and_only_a_hash_is_stored(make_client, api_client, student):
    client = make_client(student)
    path = feed_path(client)
    assert feed_path(client) == path
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=student)
    assert feed.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {feed.nonce, feed.secret_hash}

    response = client.post(f"{CALENDAR}rotate/")
    assert response.status_code == 200
    new_path = response.json()["url"].removeprefix("http://testserver")
    assert new_path != path
    assert feed_path(client) == new_path
    old = api_client.get(path)
    assert old.status_code == 404
    assert old.json()["code"] == "not_found"
    assert api_client.get(new_path).status_code == 200


@pytest.mark.django_db
def test_unknown_secret_and_deactivated_user_are_404(make_client, api_client, student):
    path = feed_path(make_client(student))
    assert api_client.get("/api/scheduling/feed/" + "0" * 64 + ".ics").status_code == 404
    student.is_active = False
    student.save()
    assert api_client.get(path).status_code == 404


@pytest.mark.django_db
def test_calendar_url_needs_authentication(api_client):
    assert api_client.get(CALENDAR).status_code == 401
    assert api_client.post(f"{CALENDAR}rotate/").status_code == 401
