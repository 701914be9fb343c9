"""Small builders for chat tests (enrollments: tests/materials/factories.py)."""

from chat.models import ChatRoom, Participant, RoomKind


def group_room(*users, name: str = "Group", read_only=()) -> ChatRoom:
    """A group room of `users` (and read-only `read_only` users), built directly for tests."""
    room = ChatRoom.objects.create(kind=RoomKind.GROUP, name=name, created_by=users[0] if users else None)
    for user in users:
        Participant.objects.create(room=room, user=user)
    for user in read_only:
        Participant.objects.create(room=room, user=user, read_only=True)
    return room
