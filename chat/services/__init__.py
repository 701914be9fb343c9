"""Writes of the chat: rooms (`rooms.py`) and messages (`messages.py`); the message payload (`payloads.py`).
Other apps call, explicitly after their commit: `rooms_sync_for_student` (materials, after an enrollment write),
`family_links_changed` (people, after a student's tutor or parent changed) and the notices of `chat.notices`
(assignments, after a publication)."""

from chat.services.messages import (
    message_delete,
    message_edit,
    message_post,
    read_marker_move,
    system_message_post,
    system_message_post_to_subject_rooms,
)
from chat.services.rooms import family_links_changed, room_direct_open, room_group_create, rooms_sync_for_student

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
