"""Who sees whom: the one visibility rule every app derives its lists and object checks from.

- student: themself, their teachers, their tutor, their parent;
- teacher: the students enrolled with them (actively), and those students' tutor and parent;
- tutor: the students they supervise, and those students' teachers and parents;
- parent: their children, and the children's teachers and tutor;
- admin: everyone.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Role, StudentProfile, User
from enrollments.models import Enrollment


def students_of(user: User) -> QuerySet[User]:
    """The students `user` is responsible for or is (a student is their own only student)."""
    students = User.objects.filter(role=Role.STUDENT)
    if user.is_admin:
        return students
    if user.role == Role.STUDENT:
        return students.filter(pk=user.pk)
    if user.role == Role.TEACHER:
        return students.filter(Exists(Enrollment.objects.filter(student=OuterRef("pk"), teacher=user, is_active=True)))
    if user.role == Role.TUTOR:
        return students.filter(student_profile__tutor=user)
    if user.role == Role.PARENT:
        return students.filter(student_profile__parent=user)
    return students.none()


def student_ids_of(user: User) -> QuerySet:
    """`students_of` as a subquery of ids, to filter other tables by (`student__in=...`)."""
    return students_of(user).values("pk")


def users_visible_to(user: User) -> QuerySet[User]:
    """Every user `user` may see, as one queryset (no duplicates, no per-row queries)."""
    if user.is_admin:
        return User.objects.all()
    students = student_ids_of(user)
    profiles = StudentProfile.objects.filter(user__in=students)
    visible = Q(pk=user.pk) | Q(pk__in=students)
    visible |= Q(pk__in=profiles.filter(tutor__isnull=False).values("tutor"))
    visible |= Q(pk__in=profiles.filter(parent__isnull=False).values("parent"))
    if user.role != Role.TEACHER:
        # A teacher sees their own students' people, not their colleagues.
        visible |= Q(pk__in=Enrollment.objects.filter(student__in=students, is_active=True).values("teacher"))
    return User.objects.filter(visible)


def can_see(viewer: User, other: User | int) -> bool:
    other_id = other if isinstance(other, int) else other.pk
    if viewer.pk == other_id or viewer.is_admin:
        return True
    return users_visible_to(viewer).filter(pk=other_id).exists()


def is_student_of(user: User, student: User | int) -> bool:
    """Whether `student` is one of `user`'s students (themself, for a student)."""
    student_id = student if isinstance(student, int) else student.pk
    return students_of(user).filter(pk=student_id).exists()
