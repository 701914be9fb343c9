"""What a profile shows from enrollments: a teacher's subjects (registered with `accounts.profiles`)."""

from django.db.models import Prefetch

from accounts.models import Role
from accounts.profiles import ProfileList, profile_list_register
from enrollments.models import Enrollment


def teacher_subjects_prefetch() -> Prefetch:
    return Prefetch(
        "teaching_enrollments", queryset=Enrollment.objects.filter(is_active=True).select_related("subject")
    )


def teacher_subjects(user) -> list[dict]:
    """The subjects `user` teaches in active enrollments, by name, `{id, name}` each. Expects
    `teacher_subjects_prefetch` loaded: no query here."""
    seen = {}
    for enrollment in user.teaching_enrollments.all():
        seen[enrollment.subject_id] = {"id": enrollment.subject_id, "name": enrollment.subject.name}
    return sorted(seen.values(), key=lambda subject: subject["name"])


def teacher_subjects_rows(user_ids: list[int]):
    """The active enrollments of many teachers at once, for `accounts.readers` (columns: `TEACHER_SUBJECTS`)."""
    return Enrollment.objects.filter(is_active=True, teacher_id__in=user_ids)


def teacher_subjects_render_rows(rows: list[tuple]) -> list[dict]:
    """`teacher_subjects` from one teacher's rows of `teacher_subjects_rows`."""
    seen = {subject_id: {"id": subject_id, "name": name} for _owner, subject_id, name, *_ in rows}
    return sorted(seen.values(), key=lambda subject: subject["name"])


TEACHER_SUBJECTS = ProfileList(
    name="subjects",
    prefetch=teacher_subjects_prefetch,
    render=teacher_subjects,
    rows=teacher_subjects_rows,
    row_columns=("teacher_id", "subject_id", "subject__name"),
    render_rows=teacher_subjects_render_rows,
)


def register() -> None:
    """A teacher's profile shows the subjects they teach; accounts renders profiles but sits below enrollments."""
    profile_list_register(Role.TEACHER, TEACHER_SUBJECTS)
