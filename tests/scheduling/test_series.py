"""Weekly series: same local wall-clock time in the teacher's time zone across a DST change, all or none."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.models import Lesson
from scheduling.services import weekly_slots
from tests.scheduling.factories import make_lesson

URL = "/api/scheduling/lessons/"
BERLIN = ZoneInfo("Europe/Berlin")


def next_dst_change(tz: ZoneInfo) -> date:
    """The first day from tomorrow on whose noon has another UTC offset than the day before."""
    day = datetime.now(tz).date() + timedelta(days=1)
    offset = datetime.combine(day, time(12), tz).utcoffset()
    while True:
        day += timedelta(days=1)
        if datetime.combine(day, time(12), tz).utcoffset() != offset:
            return day


@pytest.fixture
def berlin_teacher(enrollment):
    enrollment.teacher.timezone = "Europe/Berlin"
    enrollment.teacher.save()
    return enrollment.teacher


def series_body(enrollment, start: datetime, weeks: int, minutes: int = 60):
    return {
        "student": enrollment.student_id,
        "subject": enrollment.subject_id,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "repeat_weekly": weeks,
    }


def test_weekly_slots_keep_the_wall_clock_time_across_dst():
    change = next_dst_change(BERLIN)
    first = datetime.combine(change - timedelta(days=15), time(17), BERLIN)
    slots = weekly_slots(start=first, end=first + timedelta(minutes=90), count=4, tz=BERLIN)
    local = [start.astimezone(BERLIN) for start, _ in slots]
    assert [value.time() for value in local] == [time(17)] * 4
    assert [value.date() for value in local] == [first.date() + timedelta(weeks=n) for n in range(4)]
    assert {end - start for start, end in slots} == {timedelta(minutes=90)}
    # The UTC hour moves by the DST shift, which is the point.
    assert len({start.astimezone(ZoneInfo("UTC")).hour for start, _ in slots}) == 2


@pytest.mark.django_db
def test_series_across_dst_keeps_17_00_local(make_client, enrollment, berlin_teacher):
    change = next_dst_change(BERLIN)
    first = datetime.combine(change - timedelta(days=15), time(17), BERLIN)
    response = make_client(berlin_teacher).post(URL, series_body(enrollment, first, 4))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert len(data["lessons"]) == 4
    assert {lesson["series_id"] for lesson in data["lessons"]} == {data["series_id"]}
    assert len({lesson["id"] for lesson in data["lessons"]} - {None}) == 4
    lessons = list(Lesson.objects.order_by("start"))
    assert [lesson.start.astimezone(BERLIN).time() for lesson in lessons] == [time(17)] * 4
    assert lessons[0].start.utcoffset() == timedelta(0)  # stored and returned in UTC
    offsets = {lesson.start.astimezone(BERLIN).utcoffset() for lesson in lessons}
    assert len(offsets) == 2


@pytest.mark.django_db
def test_series_is_all_or_none_and_409_lists_every_conflicting_date(make_client, enrollment, berlin_teacher):
    first = datetime.combine(datetime.now(BERLIN).date() + timedelta(days=3), time(17), BERLIN)
    blocking = [
        make_lesson(enrollment, start=first + timedelta(weeks=1, minutes=30)),
        make_lesson(enrollment, start=first + timedelta(weeks=3, minutes=-30)),
    ]
    response = make_client(berlin_teacher).post(URL, series_body(enrollment, first, 5))
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "lesson_conflict"
    dates = [(first + timedelta(weeks=n)).date().isoformat() for n in (1, 3)]
    assert [item["date"] for item in data["conflicts"]] == dates
    assert [item["lesson"]["id"] for item in data["conflicts"]] == [lesson.pk for lesson in blocking]
    for day in dates:
        assert day in data["detail"]
    assert Lesson.objects.count() == 2  # nothing of the series was created


@pytest.mark.django_db
@pytest.mark.parametrize("weeks", [0, 1, 53])
def test_repeat_weekly_is_between_2_and_52(make_client, enrollment, weeks):
    start = datetime.now(BERLIN).replace(microsecond=0) + timedelta(days=2)
    response = make_client(enrollment.teacher).post(URL, series_body(enrollment, start, weeks))
    assert response.status_code == 400
    assert "repeat_weekly" in response.json()["fields"]


@pytest.mark.django_db
def test_a_52_week_series(make_client, enrollment):
    start = datetime.now(BERLIN).replace(microsecond=0) + timedelta(days=2)
    response = make_client(enrollment.teacher).post(URL, series_body(enrollment, start, 52))
    assert response.status_code == 201
    assert Lesson.objects.filter(series_id=response.json()["series_id"]).count() == 52
