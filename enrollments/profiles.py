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


TEACHER_SUBJECTS = ProfileList(name="subjects", prefetch=teacher_subjects_prefetch, render=teacher_subjects)


def register() -> None:
    """A teacher's profile shows the subjects they teach; accounts renders profiles but sits below enrollments."""
    profile_list_register(Role.TEACHER, TEACHER_SUBJECTS)
