from rest_framework.permissions import BasePermission

from accounts.models import Role


class CanUseInvoices(BasePermission):
    """Invoices are between tutors and parents (admins oversee): students and teachers get 403 on every
    invoice endpoint, which leaks nothing since they could not see any invoice anyway."""

    message = "Invoices are for tutors, parents and admins."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_admin or user.role in (Role.TUTOR, Role.PARENT)))


class IsTutor(BasePermission):
    message = "Only tutors create invoices."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.role == Role.TUTOR)
