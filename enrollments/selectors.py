"""Reads of subjects and enrollments. Who sees whom: `enrollments.visibility`."""

from django.db.models import QuerySet

from accounts.models import Role, User
from enrollments.models import Enrollment, Subject
from enrollments.visibility import student_ids_of


def enrollments_visible_to(user: User) -> QuerySet[Enrollment]:
    """Enrollments `user` may read: a teacher's own, those of a student/tutor/parent's students, all for admins."""
    enrollments = Enrollment.objects.select_related("student", "subject", "teacher")
    if user.is_admin:
        return enrollments
    if user.role == Role.TEACHER:
        return enrollments.filter(teacher=user)
    return enrollments.filter(student__in=student_ids_of(user))


def subjects() -> QuerySet[Subject]:
    return Subject.objects.all()
