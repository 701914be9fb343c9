"""Row locks of the chat, always in primary-key order."""

from chat.models import ChatRoom


def room_for_update(room_id: int) -> ChatRoom | None:
    """Lock a room before adding a message to it: ids within a room are then handed out in commit order, so a
    client that resumes with `?after=<last id>` can never skip a message that committed late."""
    return ChatRoom.objects.select_for_update(of=("self",)).filter(pk=room_id).order_by("pk").first()
