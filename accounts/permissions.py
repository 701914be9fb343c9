from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role


def HasRole(*roles: str, reads_open: bool = False, message: str | None = None) -> type[BasePermission]:
    """A DRF permission class admitting signed-in users whose role is one of `roles` (`Role.ADMIN` admits every
    admin, superusers included). With `reads_open`, safe methods (GET, HEAD, OPTIONS) admit any signed-in user and
    the role gate applies to writes only. Object checks stay in each app's `access_<entity>` selectors and
    `check_can_manage_<entity>` services; this is only the gate by role. Compose with `&`, `|` and `~` as any DRF
    permission."""
    wanted = frozenset(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    names = ", ".join(sorted(wanted))

    class _HasRole(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            if not (user and user.is_authenticated):
                return False
            if reads_open and request.method in SAFE_METHODS:
                return True
            return user.role in wanted or (Role.ADMIN in wanted and user.is_admin)

    _HasRole.message = message or f"Only these roles may do this: {names}."
    _HasRole.__name__ = _HasRole.__qualname__ = f"HasRole({names}{', reads_open' if reads_open else ''})"
    return _HasRole


# Admins only (role admin, or a superuser).
IsAdmin = HasRole(Role.ADMIN, message="Only administrators may do this.")
