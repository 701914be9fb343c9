"""Lessons near the ends of the calendar: a weekly series that would run past year 9999, every time zone, and the
reads of what was stored (list, feed, reminders' local times). Bounds in config.parsing."""

from datetime import UTC, datetime, timedelta

import pytest

from config.parsing import DATETIME_MAX
from scheduling.errors import SchedulingError
from scheduling.models import Lesson
from scheduling.services import weekly_slots

URL = "/api/scheduling/lessons/"


def body(enrollment, start: str, end: str, **extra):
    return {"student": enrollment.student_id, "subject": enrollment.subject_id, "start": start, "end": end, **extra}


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"])
def test_a_weekly_series_past_the_last_storable_date_is_400_and_stores_nothing(make_client, enrollment, zone):
    enrollment.teacher.timezone = zone
    enrollment.teacher.save()
    client = make_client(enrollment.teacher)

    for start, end in [
        ("9999-12-20T10:00:00Z", "9999-12-20T11:00:00Z"),  # 52 weeks from here is past datetime.max
        ("9999-12-31T23:00:00-12:00", "9999-12-31T23:59:00-12:00"),  # not even the first lesson exists in UTC
        ("9998-12-31T23:30:00Z", "9999-01-01T00:30:00Z"),  # the end is past the bound
    ]:
        response = client.post(URL, body(enrollment, start, end, repeat_weekly=52), format="json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid"
        assert set(response.json()["fields"]) <= {"start", "end"}
    assert not Lesson.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_the_latest_series_the_bounds_admit_is_stored_and_read_back(make_client, enrollment, zone):
    enrollment.teacher.timezone = zone
    enrollment.teacher.save()
    enrollment.student.timezone = "Pacific/Kiritimati"
    enrollment.student.save()
    start = (DATETIME_MAX - timedelta(hours=2)).replace(second=0, microsecond=0)
    client = make_client(enrollment.teacher)

    response = client.post(
        URL,
        body(enrollment, start.isoformat(), (start + timedelta(hours=1)).isoformat(), repeat_weekly=52),
        format="json",
    )

    assert response.status_code == 201, response.content
    lessons = list(Lesson.objects.order_by("start"))
    assert len(lessons) == 52
    assert lessons[-1].start.year == 9999
    # Whatever was stored is read back by every role's list, a filter at the bound, and the calendar feed.
    for user in (enrollment.teacher, enrollment.student):
        reader = make_client(user)
        listed = reader.get(URL, {"from": "9998-12-31T00:00:00Z", "page_size": 100})
        assert listed.status_code == 200
        assert listed.json()["count"] == 52
        feed = reader.get("/api/scheduling/calendar/").json()["url"]
        assert reader.get(feed).status_code == 200
    # Rescheduling the last lesson of the series past the bound is refused like any out-of-range value.
    late = client.patch(
        f"{URL}{lessons[-1].pk}/",
        {"start": "9999-12-30T10:00:00Z", "end": "9999-12-30T11:00:00Z"},
        format="json",
    )
    assert late.status_code == 400
    assert set(late.json()["fields"]) == {"start", "end"}


@pytest.mark.django_db
def test_weekly_slots_past_datetime_max_are_a_400_not_an_overflow(make_client, enrollment):
    """Below the parsers, the service itself refuses a series it cannot represent (defence in depth)."""

    start = datetime(9999, 12, 20, 10, tzinfo=UTC)
    with pytest.raises(SchedulingError) as error:
        weekly_slots(start=start, end=start + timedelta(hours=1), count=52, tz=UTC)
    assert error.value.status_code == 400
