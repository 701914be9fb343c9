"""Lessons on a weekly grid, reminders already sent, and calendar feeds.

Each active enrollment gets a weekly series at one (day, hour) slot that is free for both its teacher and
its student; a 90-minute lesson takes two hourly cells. No two lessons of a teacher or of a student ever
overlap (whatever their status), so PostgreSQL's exclusion constraints on scheduled lessons always hold.
The weekly grid starts on the seeding day (`World.now`, midnight UTC; day 0 is that day, not a Monday): the
weeks before it are the past (completed, cancelled, no-show), the weeks from it on the future (scheduled,
cancelled), whatever the hour or weekday of seeding. Today's lessons stay scheduled even after their hour, as
they would until the teacher marks them.
"""

import uuid
from datetime import datetime, timedelta

from demo.seeding.bulk import insert, insert_fast
from demo.seeding.texts import TOPICS
from demo.seeding.world import World
from scheduling.calendar import feed_secret, secret_hash
from scheduling.models import CalendarFeed, Lesson, LessonReminder, LessonStatus

FIRST_HOUR, LAST_HOUR = 7, 19  # UTC: the school day of students from London to Novosibirsk
SLOT_TRIES = 60


def lessons_create(world: World) -> None:
    rng, now = world.rng, world.now
    active = world.active_enrollments
    per_enrollment = max(1, round(world.scale.lessons / max(1, len(active))))
    week_zero = now  # midnight of the seeding day
    busy: set[tuple[str, int, int, int]] = set()  # (who, id, weekday, hour)
    lessons = []
    for enrollment in active:
        slot = _free_slot(world, busy, enrollment.teacher_id, enrollment.student_id)
        if slot is None:
            continue
        weekday, hour, minutes = slot
        # About 70 % of the series lies in the past, never before the enrollment started.
        first_week = max(-round(per_enrollment * 0.7), (enrollment.started_at - week_zero.date()).days // 7 + 1)
        weeks = range(first_week, first_week + per_enrollment)
        series = uuid.UUID(int=rng.getrandbits(128), version=4)
        starts = [week_zero + timedelta(weeks=week, days=weekday, hours=hour) for week in weeks]
        created = min(starts[0] - timedelta(hours=rng.randrange(2, 72)), now - timedelta(hours=1))
        for start in starts:
            lessons.append(_lesson(world, enrollment, start, minutes, series, created))
    world.counts["lessons"] = len(insert_fast(Lesson, lessons))
    _reminders_create(world, lessons)
    _feeds_create(world)


def _free_slot(world: World, busy: set, teacher: int, student: int) -> tuple[int, int, int] | None:
    rng = world.rng
    for _ in range(SLOT_TRIES):
        weekday, hour = rng.randrange(7), rng.randrange(FIRST_HOUR, LAST_HOUR)
        minutes = 90 if rng.random() < 0.25 else 60
        cells = [(weekday, hour)] + ([(weekday, hour + 1)] if minutes > 60 else [])
        keys = [(who, pk, *cell) for who, pk in (("t", teacher), ("s", student)) for cell in cells]
        if not any(key in busy for key in keys):
            busy.update(keys)
            return weekday, hour, minutes
    return None


def _lesson(world: World, enrollment, start: datetime, minutes: int, series: uuid.UUID, created: datetime) -> Lesson:
    rng, now = world.rng, world.now
    end = start + timedelta(minutes=minutes)
    past = start < now  # a whole earlier week: the hour of seeding never moves a lesson across
    if past:
        status = rng.choices(
            [LessonStatus.COMPLETED, LessonStatus.CANCELLED, LessonStatus.NO_SHOW], weights=[85, 9, 6]
        )[0]
    else:
        status = rng.choices([LessonStatus.SCHEDULED, LessonStatus.CANCELLED], weights=[93, 7])[0]
    lesson = Lesson(
        teacher_id=enrollment.teacher_id,
        student_id=enrollment.student_id,
        subject_id=enrollment.subject_id,
        start=start,
        end=end,
        status=status,
        topic=rng.choice(TOPICS),
        meeting_url=f"https://meet.example.com/{series.hex[:12]}",
        created_by_id=enrollment.teacher_id,
        series_id=series,
        created_at=created,
        updated_at=min(end, now) if past else created,
    )
    if status == LessonStatus.COMPLETED and rng.random() < 0.3:
        lesson.notes = "Covered the topic; homework set."
    if status == LessonStatus.CANCELLED:
        lesson.cancelled_at = max(created, min(now, start) - timedelta(hours=rng.randrange(1, 48)))
        lesson.cancelled_by_id = rng.choice([enrollment.teacher_id, enrollment.student_id])
        lesson.cancel_reason = rng.choice(["Ill", "Travelling", "School event", "Clash with an exam"])
        lesson.updated_at = lesson.cancelled_at
    return lesson


def _reminders_create(world: World, lessons: list[Lesson]) -> None:
    """Reminders the periodic job sent before past lessons (an hour ahead, to the student and the teacher)."""
    rng = world.rng
    rows = []
    for lesson in lessons:
        if lesson.start >= world.now or rng.random() >= 0.2:
            continue
        for user in (lesson.student_id, lesson.teacher_id):
            created = lesson.start - timedelta(hours=1)
            rows.append(
                LessonReminder(
                    lesson_id=lesson.pk,
                    user_id=user,
                    lesson_start=lesson.start,
                    created_at=created,
                    sent_at=created + timedelta(seconds=rng.randrange(1, 30)),
                )
            )
    world.counts["lesson_reminders"] = len(insert_fast(LessonReminder, rows))


def _feeds_create(world: World) -> None:
    """Calendar feeds of the demo logins and of some others, with the hash `calendar_feed_secret` expects."""
    rng = world.rng
    users = list(world.demo.values()) + [
        pk for pk in world.students + world.teachers if pk not in world.demo.values() and rng.random() < 0.15
    ]
    existing = set(CalendarFeed.objects.filter(user_id__in=users).values_list("user_id", flat=True))
    rows = []
    for user in users:
        if user in existing:
            continue
        nonce = f"{rng.getrandbits(128):032x}"
        rows.append(
            CalendarFeed(
                user_id=user,
                nonce=nonce,
                secret_hash=secret_hash(feed_secret(user, nonce)),
                created_at=world.now - timedelta(days=rng.randrange(1, 90)),
            )
        )
    world.counts["calendar_feeds"] = len(insert(CalendarFeed, rows))
