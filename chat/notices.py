"""Notices other apps post in the chat, each one narrow function called explicitly after their commit.

The caller passes plain values (chat sits below those apps and imports none of them): assignments calls
`assignment_published_notice` once a draft is published."""

from datetime import datetime

from chat.services import system_message_post_to_subject_rooms


def assignment_published_notice(
    *, teacher_id: int, subject_id: int, student_ids: list[int], title: str, due_at: datetime | None
) -> None:
    """Tell each receiving student, in their subject room with the teacher, that the assignment is out (students
    without such a room are skipped). Called after the commit, so the message is broadcast straight away."""
    due = f", due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else ""
    system_message_post_to_subject_rooms(
        teacher_id=teacher_id, subject_id=subject_id, student_ids=student_ids, text=f"New assignment: {title}{due}."
    )
