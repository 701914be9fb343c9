"""Role gates of assignments. Object checks (whose assignment, whose submission) are in the selectors'
`access_*` helpers and the services' `check_can_manage`."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role


class IsTeacherToWrite(BasePermission):
    """Anyone authenticated reads (their queryset is scoped); only teachers and admins write."""

    message = "Only teachers may change assignments."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return request.user.role == Role.TEACHER or request.user.is_admin


class IsTeacher(BasePermission):
    message = "Only teachers may create assignments."

    def has_permission(self, request, view):
        return request.user.role == Role.TEACHER


class IsStudent(BasePermission):
    message = "Only students hand in work."

    def has_permission(self, request, view):
        return request.user.role == Role.STUDENT
