from rest_framework.permissions import BasePermission

from accounts.models import Role


class IsTeacherOrAdmin(BasePermission):
    message = "Only teachers and administrators may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_admin or user.role == Role.TEACHER))


class IsAdminOrTutor(BasePermission):
    message = "Only administrators and tutors may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_admin or user.role == Role.TUTOR))


class IsStudent(BasePermission):
    message = "Only students may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.role == Role.STUDENT)


class IsNotTeacher(BasePermission):
    """Students, tutors, parents and admins: those who look at what students receive."""

    message = "Teachers have no student dashboard."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.role != Role.TEACHER)
