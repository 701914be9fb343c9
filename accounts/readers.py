"""Users as `accounts.serializers.UserSerializer` renders them, read as columns rather than models: for the lists and
pages that only show users (the admin's users list, `/api/profile/me/`).

`UserSerializer` over `accounts.selectors.with_profiles` builds a model per user, per profile and per linked person,
runs a prefetch (its own query compiled) per profile list, then DRF's field machinery per value. Here a page is two
queries: the users with every profile column and the names of a student's tutor and parent (LEFT JOINs, `values()`),
then every list of every profile of the page (a parent's children, and the lists apps above accounts registered in
`accounts.profiles`, e.g. a teacher's subjects) in ONE `UNION ALL`, each row tagged with its list. Rendering builds
the dicts directly. The output is the serializer's, key for key and byte for byte (tests/accounts/test_readers.py
compares them); the OpenAPI schema stays `UserSerializer`'s.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import CharField, QuerySet, Value
from rest_framework import serializers

from accounts.models import Role, StudentProfile, person_name_of
from accounts.profiles import profile_lists

# The datetimes as DRF's DateTimeField writes them (ISO 8601, `Z` for UTC): its own method, so they cannot drift.
_DATETIME = serializers.DateTimeField()
# A list row beyond the tag and the owner's id: one integer (the item's id) and at most this many texts.
ROW_TEXTS = 4
_CHILDREN = "children"

_USER_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "role",
    "timezone",
    "phone",
    "telegram_chat_id",
    "is_active",
    "date_joined",
    "last_login",
)
# Per role: the columns of its profile (the first one is the profile's key: NULL when the user has no profile row).
_PERSON = ("id", "first_name", "last_name", "email", "role")
_PROFILE_COLUMNS = {
    Role.STUDENT: (
        "student_profile",
        "student_profile__grade",
        "student_profile__goal",
        *(f"student_profile__tutor__{name}" for name in _PERSON),
        *(f"student_profile__parent__{name}" for name in _PERSON),
    ),
    Role.TEACHER: ("teacher_profile", "teacher_profile__bio", "teacher_profile__experience_years"),
    Role.TUTOR: ("tutor_profile", "tutor_profile__bio"),
    Role.PARENT: ("parent_profile",),
}


def user_columns(role: str | None = None) -> tuple[str, ...]:
    """The `values()` columns of a user with every role's profile, or with `role`'s alone when it is known."""
    roles = _PROFILE_COLUMNS if role is None else {role: _PROFILE_COLUMNS.get(role, ())}
    return (*_USER_COLUMNS, *(column for columns in roles.values() for column in columns))


def _person(row: dict, prefix: str) -> dict | None:
    if row[f"{prefix}id"] is None:
        return None
    name = person_name_of(row[f"{prefix}first_name"], row[f"{prefix}last_name"], row[f"{prefix}email"])
    return {"id": row[f"{prefix}id"], "name": name, "role": row[f"{prefix}role"]}


def _lists_query(user_ids: list[int], roles: Iterable[str]) -> QuerySet | None:
    """Every list of the profiles of `roles` for these users, as one query of rows (tag, owner id, item id, texts)."""
    parts = []

    def shaped(tag: str, queryset: QuerySet, columns: tuple[str, ...]) -> QuerySet:
        owner, item, *texts = columns
        padding = [Value("", output_field=CharField())] * (ROW_TEXTS - len(texts))
        return queryset.order_by().values_list(
            Value(tag, output_field=CharField()), owner, item, *texts, *padding, named=False
        )

    for role in roles:
        if role == Role.PARENT:
            children = StudentProfile.objects.filter(parent_id__in=user_ids)
            columns = ("parent_id", *(f"user__{name}" for name in _PERSON))
            parts.append(shaped(_CHILDREN, children, columns))
        for profile_list in profile_lists(role):
            if profile_list.rows is not None:
                tag = f"{role}:{profile_list.name}"
                parts.append(shaped(tag, profile_list.rows(user_ids), profile_list.row_columns))
    if not parts:
        return None
    return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]


def _render_lists(rows: Iterable[tuple]) -> dict[tuple[str, int], list[tuple]]:
    grouped: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    for tag, owner, *rest in rows:
        grouped[(tag, owner)].append((owner, *rest))
    return grouped


def _profile(row: dict, lists: dict[tuple[str, int], list[tuple]]) -> dict | None:
    role = row["role"]
    if role not in _PROFILE_COLUMNS or row[_PROFILE_COLUMNS[role][0]] is None:
        return None
    user_id = row["id"]
    if role == Role.STUDENT:
        profile = {
            "grade": row["student_profile__grade"],
            "goal": row["student_profile__goal"],
            "tutor": _person(row, "student_profile__tutor__"),
            "parent": _person(row, "student_profile__parent__"),
        }
    elif role == Role.TEACHER:
        profile = {"bio": row["teacher_profile__bio"], "experience_years": row["teacher_profile__experience_years"]}
    elif role == Role.TUTOR:
        profile = {"bio": row["tutor_profile__bio"]}
    else:
        children = sorted(lists.get((_CHILDREN, user_id), ()), key=lambda child: child[1])
        profile = {
            "children": [
                {"id": child_id, "name": person_name_of(first, last, email), "role": child_role}
                for _owner, child_id, first, last, email, child_role in children
            ]
        }
    for profile_list in profile_lists(role):
        if profile_list.render_rows is not None:
            own = lists.get((f"{role}:{profile_list.name}", user_id), [])
            profile[profile_list.name] = profile_list.render_rows(own)
    return profile


def render_users(rows: list[dict], role: str | None = None) -> list[dict]:
    """`UserSerializer(many=True).data` for `rows` (a `values(*user_columns(role))` page), with one more query (none
    when no profile of theirs shows a list)."""
    if not rows:
        return []
    roles = _PROFILE_COLUMNS if role is None else [role]
    query = _lists_query([row["id"] for row in rows], roles)
    lists = _render_lists(query) if query is not None else {}
    return [
        {
            "id": row["id"],
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "role": row["role"],
            "timezone": row["timezone"],
            "phone": row["phone"],
            "telegram_linked": row["telegram_chat_id"] is not None,
            "is_active": row["is_active"],
            "date_joined": _DATETIME.to_representation(row["date_joined"]),
            "last_login": _DATETIME.to_representation(row["last_login"]) if row["last_login"] is not None else None,
            "profile": _profile(row, lists),
        }
        for row in rows
    ]


def user_rows(users: QuerySet, role: str | None = None) -> QuerySet:
    """`users` as the rows `render_users` reads."""
    return users.values(*user_columns(role))
