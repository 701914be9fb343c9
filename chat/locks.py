"""Row locks of the chat, always in primary-key order."""

from django.db.models import QuerySet

from chat.models import ChatRoom


def rooms_for_update(rooms: QuerySet[ChatRoom]) -> list[ChatRoom]:
    """Lock rooms before adding messages to them: ids within a room are then handed out in commit order, so a
    client that resumes with `?after=<last id>` can never skip a message that committed late."""
    return list(rooms.select_for_update(of=("self",)).order_by("pk"))


def membership_locking_room(room_id: int, user_id: int) -> bool | None:
    """The user's `read_only` flag in the room (None: not a member), locking the room as `rooms_for_update`
    does, in one statement. Without membership nothing is locked."""
    rows = (
        ChatRoom.objects.select_for_update(of=("self",))
        .filter(pk=room_id, participants__user_id=user_id)
        .values_list("participants__read_only", flat=True)
    )
    return next(iter(rows), None)
