from rest_framework.permissions import BasePermission


class IsAdmin(BasePermission):
    """Admins only (role admin, or a superuser)."""

    message = "Only administrators may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)
