"""Lists a role's profile shows that an app above accounts owns (a teacher's subjects: `enrollments`).

accounts renders profiles (login, `/api/profile/me/`, the admin's users) but sits below the apps that hold these
lists, so it cannot import them. Such an app registers, from its `AppConfig.ready`, how to load the list for a
page of users (a `Prefetch`, so a page costs one query per list, not one per user) and how to render it from what
was loaded. The selectors (`with_profiles`, ...) prefetch every registered list; the serializers render it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet


@dataclass(frozen=True)
class ProfileList:
    name: str  # the profile's field
    prefetch: Callable[[], Prefetch]  # how to load it for many users at once
    render: Callable[[Any], list]  # the user (loaded with `prefetch`) -> the field's value, without a query
    # The same list as plain rows, for the readers of `accounts.readers` (every list of a page of users in ONE query,
    # a UNION ALL of each list's rows): the users' ids -> the rows' queryset; its `row_columns` (the owner's user id
    # first, then at most `accounts.readers.ROW_TEXTS` columns, the first an integer, the others texts); one
    # owner's rows (tuples of those columns, padded) -> the field's value.
    rows: Callable[[list[int]], QuerySet] | None = None
    row_columns: tuple[str, ...] = ()
    render_rows: Callable[[list[tuple]], list] | None = None


_LISTS: dict[str, dict[str, ProfileList]] = {}


def profile_list_register(role: str, profile_list: ProfileList) -> None:
    _LISTS.setdefault(role, {})[profile_list.name] = profile_list


def profile_list_prefetches(role: str) -> list[Prefetch]:
    return [profile_list.prefetch() for profile_list in _LISTS.get(role, {}).values()]


def profile_list_render(role: str, name: str, user) -> list:
    return _LISTS[role][name].render(user)


def profile_lists(role: str) -> list[ProfileList]:
    return list(_LISTS.get(role, {}).values())
