"""The per-user secret iCalendar feed (RFC 5545, built with the `icalendar` library).

The secret in the URL is an HMAC of the user and a random nonce under the SECRET_KEY: `GET /calendar/` can show the
same URL again without the database ever holding it, rotating draws a new nonce (the old URL stops working), and a
feed request finds its row by the SHA-256 of the presented secret (unique index), so no secret is compared byte by
byte. Rotating the SECRET_KEY changes every URL; the next `GET /calendar/` stores the new one.
"""

import hashlib
import secrets
from datetime import timedelta

import icalendar
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import User
from scheduling.models import CalendarFeed, Lesson, LessonStatus
from scheduling.selectors import calendar_lessons_for

FEED_HISTORY = timedelta(days=90)
FEED_MAX_LESSONS = 2000
UID_DOMAIN = "thebot.scheduling"


def feed_secret(user_id: int, nonce: str) -> str:
    """The feed secret of a user with a feed nonce (derived from SECRET_KEY; its hash is what CalendarFeed stores)."""
    return salted_hmac("scheduling.calendar-feed", f"{user_id}:{nonce}", algorithm="sha256").hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def calendar_feed_secret(*, user: User) -> str:
    """The user's feed secret, creating the feed on first use."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
        if feed is None:
            nonce = secrets.token_hex(16)
            secret = feed_secret(user.pk, nonce)
            CalendarFeed.objects.create(user=user, nonce=nonce, secret_hash=secret_hash(secret))
            return secret
        secret = feed_secret(user.pk, feed.nonce)
        if feed.secret_hash != secret_hash(secret):  # the SECRET_KEY was rotated since
            feed.secret_hash = secret_hash(secret)
            feed.save(update_fields=["secret_hash"])
        return secret


def calendar_feed_rotate(*, user: User) -> str:
    """A new secret for the user's feed; the previous URL answers 404 from now on."""
    nonce = secrets.token_hex(16)
    secret = feed_secret(user.pk, nonce)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"nonce": nonce, "secret_hash": secret_hash(secret), "rotated_at": timezone.now()}
    )
    return secret


def feed_owner(secret: str) -> User | None:
    """The active user whose feed has this secret, or None."""
    feed = CalendarFeed.objects.select_related("user").filter(secret_hash=secret_hash(secret)).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def lesson_uid(lesson: Lesson) -> str:
    """Stable across edits and feeds: calendar clients update the event instead of duplicating it."""
    return f"lesson-{lesson.pk}@{UID_DOMAIN}"


def _event(lesson: Lesson) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", lesson_uid(lesson))
    event.add("dtstamp", lesson.updated_at)
    event.add("last-modified", lesson.updated_at)
    event.add("created", lesson.created_at)
    event.add("dtstart", lesson.start)
    event.add("dtend", lesson.end)
    title = f"{lesson.subject.name}: {lesson.student.full_name} with {lesson.teacher.full_name}"
    event.add("summary", f"{title} — {lesson.topic}" if lesson.topic else title)
    description = [lesson.topic] if lesson.topic else []
    if lesson.meeting_url:
        event.add("url", lesson.meeting_url)
        description.append(lesson.meeting_url)
    if lesson.status == LessonStatus.CANCELLED and lesson.cancel_reason:
        description.append(f"Cancelled: {lesson.cancel_reason}")
    if description:
        event.add("description", "\n".join(description))
    event.add("status", "CANCELLED" if lesson.status == LessonStatus.CANCELLED else "CONFIRMED")
    return event


def render_feed(user: User) -> bytes:
    """The user's lessons of the last 90 days and the future as an iCalendar document."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//THE_BOT//Scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "THE_BOT lessons")
    calendar.add("x-wr-timezone", user.timezone)
    for lesson in calendar_lessons_for(user, since=timezone.now() - FEED_HISTORY, limit=FEED_MAX_LESSONS):
        calendar.add_component(_event(lesson))
    return calendar.to_ical()
