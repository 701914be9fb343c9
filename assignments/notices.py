"""Telling students of a newly published assignment: one job per publication (queued by
`assignments.services` after the commit, so publishing costs the same queries for any class size), which queues
each student's notification through `notifications.notify` (Telegram, email, as their preferences allow), at most once
per assignment, student and channel."""

from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.models import User
from assignments.models import Assignment
from notifications.services import language_of, notifications_enabled, notify


@task()
def assignment_published_notify_job(assignment_id: int, student_ids: list[int]) -> int:
    """The worker's side: the assignment as it is now (gone: nobody is told)."""
    assignment = Assignment.objects.select_related("subject").filter(pk=assignment_id).first()
    if assignment is None:
        return 0
    assignment_published_notify(assignment, student_ids)
    return len(student_ids)


def assignment_published_text(assignment: Assignment, student: User) -> str:
    """The notice of a new assignment as `student` reads it: in the active language, due in their time zone."""
    due = timezone.localtime(assignment.due_at, ZoneInfo(student.timezone))
    return _("New assignment in %(subject)s: %(title)s\nDue: %(day)s at %(time)s (%(tz)s)") % {
        "subject": assignment.subject.name,
        "title": assignment.title,
        "day": f"{due:%a %d %b}",
        "time": f"{due:%H:%M}",
        "tz": student.timezone,
    }


def assignment_published_notify(assignment: Assignment, student_ids: list[int]) -> None:
    """Each receiving student is told through notifications (Telegram, email, as their preferences allow), at
    most once per assignment, student and channel."""
    if not student_ids or not notifications_enabled():
        return
    for student in User.objects.filter(pk__in=student_ids, is_active=True).order_by("pk"):
        with translation.override(language_of(student)):
            text = assignment_published_text(assignment, student)
        notify(
            student,
            event="assignment_published",
            text=text,
            dedupe_key=f"assignment-published:{assignment.pk}:{student.pk}",
        )
