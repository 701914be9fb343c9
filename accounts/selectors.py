"""Reads of accounts: users loaded with their role's profile. Who sees whom: `enrollments.visibility`."""

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from accounts.models import PROFILE_JOINS_BY_ROLE, Role, StudentProfile, User
from accounts.profiles import profile_list_prefetches


def _profile_relations() -> dict[str, tuple[tuple[str, ...], list]]:
    """Per role: the one-to-one joins (`PROFILE_JOINS_BY_ROLE`) and the prefetched lists its profile shows (a
    parent's children here; the lists apps above accounts registered, `accounts.profiles`)."""
    children = Prefetch("children_profiles", queryset=StudentProfile.objects.select_related("user").order_by("user_id"))
    lists = {Role.PARENT: [children]}
    return {
        role: (joins, lists.get(role, []) + profile_list_prefetches(role))
        for role, joins in PROFILE_JOINS_BY_ROLE.items()
    }


def with_profiles(users: QuerySet[User], role: str | None = None) -> QuerySet[User]:
    """Load every role's profile, its links and lists for a page of users in a fixed number of queries; with
    `role` known (one user of that role), only what that role's profile shows."""
    relations = _profile_relations()
    chosen = relations.values() if role is None else [relations.get(role, ((), []))]
    joins = [name for names, _ in chosen for name in names]
    lists = [lookup for _, lookups in chosen for lookup in lookups]
    return users.select_related(*joins).prefetch_related(*lists) if joins else users


def user_for_profile(user_id: int, role: str | None = None) -> User:
    """One user with their profile; pass the `role` when it is known (2 queries at most instead of 3)."""
    return with_profiles(User.objects.filter(pk=user_id), role).get()


def with_profile_lists(user: User) -> User:
    """`user`, loaded with every profile joined (as the login's lookup loads it, `PROFILE_JOINS`), completed with
    its role's lists: one query for a teacher or a parent, none for the others."""
    _, lists = _profile_relations().get(user.role, ((), []))
    if lists:
        prefetch_related_objects([user], *lists)
    return user
