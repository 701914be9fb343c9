"""Rooms: opened by users (direct, group) and made by themselves from enrollments and student links."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from accounts.models import Role, StudentProfile, User
from chat.broadcast import membership_on_commit
from chat.errors import ChatError, ChatErrorCode
from chat.models import ChatRoom, Participant, RoomKind
from chat.selectors import direct_room_key, subject_room_key
from chat.services.family import family_rooms_follow_links
from enrollments.models import Enrollment
from enrollments.visibility import users_visible_to

GROUP_MAX_USERS = 200


def _room_get_or_create(*, key: str, defaults: dict) -> tuple[ChatRoom, bool]:
    """The room with this unique key, created when missing; a concurrent creator's room wins."""
    room = ChatRoom.objects.filter(key=key).first()
    if room is not None:
        return room, False
    try:
        with transaction.atomic():
            return ChatRoom.objects.create(key=key, **defaults), True
    except IntegrityError:
        return ChatRoom.objects.get(key=key), False


def _participants_ensure(room: ChatRoom, user_ids: list[int], *, read_only: bool = False) -> None:
    Participant.objects.bulk_create(
        [Participant(room=room, user_id=user_id, read_only=read_only) for user_id in user_ids],
        ignore_conflicts=True,
    )
    Participant.objects.filter(room=room, user_id__in=user_ids).exclude(read_only=read_only).update(read_only=read_only)
    # Joining a group twice is harmless, so every named user's open sockets are told, new members or not.
    membership_on_commit(user_ids, room.pk, joined=True)


def room_direct_open(*, user: User, other_user_id: int) -> tuple[ChatRoom, bool]:
    """The direct room of two users, created on first use. Only with someone the user may see."""
    if other_user_id == user.pk:
        raise ChatError("A direct room needs another user.", ChatErrorCode.DIRECT_WITH_SELF)
    if not users_visible_to(user).filter(pk=other_user_id, is_active=True).exists():
        raise ChatError("User not found.", ChatErrorCode.USER_NOT_FOUND, status=404, fields={"user": ["Not found."]})
    with transaction.atomic():
        room, created = _room_get_or_create(
            key=direct_room_key(user.pk, other_user_id), defaults={"kind": RoomKind.DIRECT, "created_by": user}
        )
        if created:
            _participants_ensure(room, [user.pk, other_user_id])
    return room, created


def room_group_create(*, user: User, name: str, user_ids: list[int]) -> ChatRoom:
    """A named room of the creator and people they may see. Who may create one (teachers, tutors and admins) is
    the view's role gate (`chat.views.GroupCreators`)."""
    wanted = set(user_ids) - {user.pk}
    if len(wanted) > GROUP_MAX_USERS:
        raise ChatError("Too many users.", fields={"users": [f"At most {GROUP_MAX_USERS}."]})
    visible = set(users_visible_to(user).filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    missing = sorted(wanted - visible)
    if missing:
        raise ChatError(
            "User not found.", ChatErrorCode.USER_NOT_FOUND, fields={"users": [f"Unknown user {pk}." for pk in missing]}
        )
    with transaction.atomic():
        room = ChatRoom.objects.create(kind=RoomKind.GROUP, name=name, created_by=user)
        _participants_ensure(room, [user.pk, *sorted(wanted)])
    return room


def rooms_sync_for_student(student: User | int, *, former_ids: Iterable[int] = ()) -> None:
    """Make the rooms a student's links call for, idempotently: a subject room per active enrollment (student
    and teacher write, the student's tutor reads), a direct room with the tutor, and one between the parent and
    the tutor; a replaced tutor or parent loses the family's direct rooms first (`family.py`; `former_ids`: the
    former tutor and parent when the caller knows them). Run after enrollments or the student's profile change;
    running it again changes nothing."""
    student_id = student if isinstance(student, int) else student.pk
    profile = StudentProfile.objects.filter(user_id=student_id, user__role=Role.STUDENT).first()
    if profile is None:
        return
    tutor_id, parent_id = profile.tutor_id, profile.parent_id
    with transaction.atomic():
        for enrollment in Enrollment.objects.filter(student_id=student_id, is_active=True).select_related("subject"):
            room, _ = _room_get_or_create(
                key=subject_room_key(student_id, enrollment.teacher_id, enrollment.subject_id),
                defaults={
                    "kind": RoomKind.SUBJECT,
                    "name": enrollment.subject.name,
                    "subject_id": enrollment.subject_id,
                    "student_id": student_id,
                },
            )
            _participants_ensure(room, [student_id, enrollment.teacher_id])
        # Subject rooms of ended enrollments keep their history; the tutor's read access follows the link.
        for room in ChatRoom.objects.filter(kind=RoomKind.SUBJECT, student_id=student_id).prefetch_related(
            "participants"
        ):
            _subject_room_readers_set(room, tutor_id=tutor_id)
        family_rooms_follow_links(student_id=student_id, tutor_id=tutor_id, parent_id=parent_id, former_ids=former_ids)
        pairs = []
        if tutor_id is not None:
            pairs.append((student_id, tutor_id))
            if parent_id is not None:
                pairs.append((parent_id, tutor_id))
        for first, second in pairs:
            room, created = _room_get_or_create(key=direct_room_key(first, second), defaults={"kind": RoomKind.DIRECT})
            if created:
                _participants_ensure(room, [first, second])


def family_links_changed(*, student_id: int, former_ids: Iterable[int] = ()) -> None:
    """Called after the commit that changed a student's tutor or parent (people's services, the Django admin),
    with the former ones: the family's rooms follow the new links (`family.py`)."""
    rooms_sync_for_student(student_id, former_ids=[pk for pk in former_ids if pk is not None])


def _subject_room_readers_set(room: ChatRoom, *, tutor_id: int | None) -> None:
    """The student's tutor reads the room; a former tutor no longer does (writers are never removed)."""
    readers = {p.user_id for p in room.participants.all() if p.read_only}
    stale = readers - {tutor_id}
    if stale:
        Participant.objects.filter(room=room, read_only=True, user_id__in=stale).delete()
        membership_on_commit(stale, room.pk, joined=False)
    if tutor_id is not None and tutor_id not in readers:
        _participants_ensure(room, [tutor_id], read_only=True)
