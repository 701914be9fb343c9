"""The family's direct rooms follow the student's links: a replaced tutor or parent loses them at once.

A student's direct room with their tutor, and their parent's with that tutor, are made by `rooms_sync_for_student`.
Access to a room is membership alone (`chat.selectors`), so a link change is applied to the members, in the same
transaction as the sync, and open sockets are told after commit (`chat.membership`, broadcast.py):

- **A new tutor takes the room over** (the old tutor's row goes, the new tutor's comes, the key follows the pair):
  the history is the family's conversation about the student, which the next tutor needs (what was agreed,
  homework, schedules), and it stays where the family already reads it. The new tutor joins with everything up to
  the room's last message marked read. Without a new tutor (the link removed) the old tutor just leaves.
- **A replaced parent leaves**, and the new parent gets a room of their own with the tutor: a parent's
  conversation is theirs, and a link is replaced mostly because it was wrong, so it is not handed to the next
  adult.
- A room that loses a member without being taken over keeps its history for the one who stays and loses its
  key, so that a later link between the same two people makes a new room.

A direct room is a family room when its two members are a student and a tutor, a parent and a tutor, or a student
and a parent; it is stale when the two are no longer linked (the student's tutor or parent, or the tutor of a
child of the parent). Since a student sees no tutor but their own, a student's direct room with another tutor was
made while that tutor was theirs. Entry point: `family_links_changed` (in rooms.py, beside the sync it runs), called
after the commit of every write of a student's links (the people services and the Django admin's student profile
pages), naming the former tutor and parent.
"""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import Role, StudentProfile
from chat.broadcast import membership_on_commit
from chat.locks import rooms_for_update
from chat.models import ChatRoom, Participant, RoomKind
from chat.selectors import direct_room_key

FAMILY_ROLES = {Role.STUDENT, Role.TUTOR, Role.PARENT}


def family_rooms_follow_links(
    *, student_id: int, tutor_id: int | None, parent_id: int | None, former_ids: Iterable[int] = ()
) -> None:
    """Re-point or leave the stale family rooms around the student (module docstring); inside the sync's
    transaction, before it makes the rooms the current links call for."""
    direct = ChatRoom.objects.filter(kind=RoomKind.DIRECT)
    own_rooms = Participant.objects.filter(user_id=student_id, room__kind=RoomKind.DIRECT).values("room_id")
    found = list(
        Participant.objects.filter(room_id__in=own_rooms, user__role__in=[Role.TUTOR, Role.PARENT]).values_list(
            "user_id", "user__role"
        )
    )
    former = set(former_ids)
    former_tutors = {pk for pk, role in found if role == Role.TUTOR and pk != tutor_id}
    circle = {student_id, *former, *(pk for pk, _ in found)} | ({tutor_id, parent_id} - {None})
    rooms = rooms_for_update(direct.filter(pk__in=Participant.objects.filter(user_id__in=circle).values("room_id")))
    if not rooms:
        return
    members: dict[int, dict[int, str]] = {}
    for room_id, user_id, role in Participant.objects.filter(room__in=rooms).values_list(
        "room_id", "user_id", "user__role"
    ):
        members.setdefault(room_id, {})[user_id] = role
    former_tutors |= {
        pk for room in members.values() for pk, role in room.items() if pk in former and role == Role.TUTOR
    }
    people = {pk for room in members.values() for pk in room}
    linked = _linked_pairs(people)
    taken = set(
        ChatRoom.objects.filter(
            key__in=[direct_room_key(student_id, tutor_id or 0), direct_room_key(parent_id or 0, tutor_id or 0)]
        ).values_list("key", flat=True)
    )
    for room in rooms:
        pair = members.get(room.pk, {})
        if len(pair) != 2 or set(pair.values()) - FAMILY_ROLES or frozenset(pair) in linked:
            continue
        by_role = {role: pk for pk, role in pair.items()}
        if len(by_role) != 2:
            continue  # two people of one role: not a family pair
        student, tutor, parent = by_role.get(Role.STUDENT), by_role.get(Role.TUTOR), by_role.get(Role.PARENT)
        keeper = student if student is not None else parent
        takes_over = (
            tutor is not None
            and tutor_id is not None
            and (keeper == student_id if student is not None else keeper == parent_id and tutor in former_tutors)
            and direct_room_key(keeper, tutor_id) not in taken
        )
        if takes_over and _member_replace(room, keeper=keeper, old_id=tutor, new_id=tutor_id):
            taken.add(room.key)
            continue
        if tutor is None:  # a student and a parent: the parent leaves
            leaving = [parent]
        elif student is not None:  # a student and a tutor: the tutor leaves
            leaving = [tutor]
        else:  # a parent and a tutor: whoever is not the student's own leaves
            leaving = [pk for pk, own in ((parent, parent_id), (tutor, tutor_id)) if pk != own]
        _members_remove(room, leaving)


def _linked_pairs(people: set[int]) -> set[frozenset[int]]:
    """Pairs of these people who are linked now: a student and their tutor or parent, a parent and the tutor of
    one of their children."""
    linked: set[frozenset[int]] = set()
    profiles = StudentProfile.objects.filter(
        Q(user_id__in=people) | Q(tutor_id__in=people) | Q(parent_id__in=people)
    ).values_list("user_id", "tutor_id", "parent_id")
    for student, tutor, parent in profiles:
        if tutor is not None:
            linked.add(frozenset((student, tutor)))
        if parent is not None:
            linked.add(frozenset((student, parent)))
        if tutor is not None and parent is not None:
            linked.add(frozenset((parent, tutor)))
    return linked


def _member_replace(room: ChatRoom, *, keeper: int, old_id: int, new_id: int) -> bool:
    """The new member takes the old one's place (the history stays); False when the pair's key is taken by a
    concurrent sync, and nothing changed."""
    try:
        with transaction.atomic():
            room.key = direct_room_key(keeper, new_id)
            room.save(update_fields=["key"])
            Participant.objects.filter(room=room, user_id=old_id).delete()
            Participant.objects.create(room=room, user_id=new_id, last_read_message_id=room.last_message_id or 0)
    except IntegrityError:
        room.refresh_from_db(fields=["key"])
        return False
    membership_on_commit([old_id], room.pk, joined=False)
    membership_on_commit([new_id], room.pk, joined=True)
    return True


def _members_remove(room: ChatRoom, user_ids: list[int]) -> None:
    Participant.objects.filter(room=room, user_id__in=user_ids).delete()
    room.key = None
    room.save(update_fields=["key"])
    membership_on_commit(user_ids, room.pk, joined=False)
