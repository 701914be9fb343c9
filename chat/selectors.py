"""Reads of the chat. Access follows membership: a user reads the rooms they take part in (a student's tutor
takes part in the student's subject rooms, read-only); a foreign room answers 404 like a missing one."""

from django.db.models import Count, F, FilteredRelation, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User, person_deferred
from chat.errors import ChatError, ChatErrorCode
from chat.models import ChatRoom, Message, Participant, RoomKind

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100


_COUNT = IntegerField()  # the unread count's type (a model field costs a fresh creation counter and validators)

# A room's participants as the list shows them: people references, their flags, nothing else.
_participants = (
    Participant.objects.select_related("user").defer("joined_at", *person_deferred("user")).order_by("user_id")
)


def rooms_for(user: User) -> QuerySet[ChatRoom]:
    """The user's rooms, newest activity first, each with its last message, the user's `unread_count` and
    participants, in a fixed number of queries whatever the number of rooms."""
    unread = (
        Message.objects.filter(room=OuterRef("pk"), id__gt=OuterRef("my_last_read"), deleted_at__isnull=True)
        .exclude(sender_id=user.pk)
        .order_by()
        .values("room")
        .annotate(count=Count("*"))
        .values("count")
    )
    return (
        ChatRoom.objects.annotate(me=FilteredRelation("participants", condition=Q(participants__user_id=user.pk)))
        .filter(me__isnull=False)
        .annotate(
            my_last_read=F("me__last_read_message_id"),
            my_read_only=F("me__read_only"),
            my_muted=F("me__muted"),
        )
        .annotate(unread_count=Coalesce(Subquery(unread, output_field=_COUNT), Value(0)))
        .select_related("last_message__sender", "subject", "student")
        .defer(*person_deferred("last_message__sender"), *person_deferred("student"))
        .prefetch_related(Prefetch("participants", queryset=_participants))
        .order_by("-last_activity_at", "-id")
    )


def room_not_found() -> ChatError:
    """The one answer for a room that is missing or not the caller's: 404 `not_found`."""
    return ChatError("Room not found.", ChatErrorCode.NOT_FOUND, status=404)


def access_room(user: User, room_id: int, *, for_update: bool = False) -> ChatRoom:
    """The room if the user takes part in it, else 404 (missing and foreign alike); `for_update` locks its row."""
    rooms = ChatRoom.objects.filter(pk=room_id, participants__user_id=user.pk)
    if for_update:
        rooms = rooms.select_for_update(of=("self",))
    room = rooms.first()
    if room is None:
        raise room_not_found()
    return room


def room_for(user: User, room_id: int) -> ChatRoom:
    """One of the user's rooms as the rooms list shows it, else 404."""
    room = rooms_for(user).filter(pk=room_id).first()
    if room is None:
        raise room_not_found()
    return room


def messages_page(*, room_id: int, before: int | None, after: int | None, limit: int) -> tuple[list[Message], bool]:
    """A page of a room's history by message id, oldest first, and whether more lie beyond it.

    `after`: the messages following that id (resynchronization after a reconnect); `before`: the ones
    preceding it (scrolling back); neither: the newest. Ids are stable, so pages neither skip nor repeat
    under concurrent sends."""
    messages = Message.objects.filter(room_id=room_id).select_related("sender", "reply_to")
    if before is not None:
        messages = messages.filter(id__lt=before)
    if after is not None:
        messages = messages.filter(id__gt=after)
        page = list(messages.order_by("id")[: limit + 1])
        return page[:limit], len(page) > limit
    page = list(messages.order_by("-id")[: limit + 1])
    has_more = len(page) > limit
    return list(reversed(page[:limit])), has_more


def membership(user_id: int, room_id: int) -> bool | None:
    """Whether the user takes part in the room: None when not (or no such room), else their `read_only` flag.
    Membership is the only access rule of the chat; the rows follow the links (services/family.py)."""
    return Participant.objects.filter(room_id=room_id, user_id=user_id).values_list("read_only", flat=True).first()


def room_ids_of(user_id: int) -> list[int]:
    return list(Participant.objects.filter(user_id=user_id).values_list("room_id", flat=True))


def co_member_ids(user_id: int) -> list[int]:
    """Everyone who shares a room with the user (whom their presence concerns)."""
    rooms = Participant.objects.filter(user_id=user_id).values("room_id")
    return list(
        Participant.objects.filter(room_id__in=rooms)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
        .distinct()
    )


def subject_room_for(student_id: int, teacher_id: int, subject_id: int) -> ChatRoom | None:
    """The subject room of a student, teacher and subject (created with the enrollment), if any."""
    return ChatRoom.objects.filter(
        kind=RoomKind.SUBJECT, key=subject_room_key(student_id, teacher_id, subject_id)
    ).first()


def direct_room_key(first_user_id: int, second_user_id: int) -> str:
    low, high = sorted((first_user_id, second_user_id))
    return f"direct:{low}:{high}"


def subject_room_key(student_id: int, teacher_id: int, subject_id: int) -> str:
    return f"subject:{student_id}:{teacher_id}:{subject_id}"
