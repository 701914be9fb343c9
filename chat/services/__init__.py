"""Writes of the chat: rooms (`rooms.py`) and messages (`messages.py`). Other apps use
`system_message_post`, `rooms_sync_for_student` and `family_links_changed` (accounts, after a link change)."""

from chat.services.family import family_links_changed
from chat.services.messages import (
    message_delete,
    message_edit,
    message_post,
    read_marker_move,
    system_message_post,
    system_message_post_to_subject_rooms,
)
from chat.services.rooms import room_direct_open, room_group_create, rooms_sync_for_student

__all__ = [
    "family_links_changed",
    "message_delete",
    "message_edit",
    "message_post",
    "read_marker_move",
    "room_direct_open",
    "room_group_create",
    "rooms_sync_for_student",
    "system_message_post",
    "system_message_post_to_subject_rooms",
]
