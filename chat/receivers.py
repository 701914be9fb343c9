"""Signal wiring: rooms follow enrollments and student links without materials or accounts knowing chat.

Only wiring lives here; the rule is the service `rooms_sync_for_student`, run after the change committed.
"""

from django.db import transaction


def enrollment_saved(sender, instance, **kwargs) -> None:
    from chat.services import rooms_sync_for_student

    student_id = instance.student_id
    transaction.on_commit(lambda: rooms_sync_for_student(student_id))


def student_profile_saved(sender, instance, **kwargs) -> None:
    from chat.services import rooms_sync_for_student

    student_id = instance.user_id
    transaction.on_commit(lambda: rooms_sync_for_student(student_id))


def assignment_published(sender, assignment, student_ids, **kwargs) -> None:
    """Tell each receiving student, in their subject room with the teacher, that the assignment is out.
    Sent by assignments after its transaction committed, so the message can be broadcast straight away."""
    from chat.services import system_message_post_to_subject_rooms

    due = f", due {assignment.due_at:%Y-%m-%d %H:%M} UTC" if assignment.due_at else ""
    system_message_post_to_subject_rooms(
        teacher_id=assignment.teacher_id,
        subject_id=assignment.subject_id,
        student_ids=student_ids,
        text=f"New assignment: {assignment.title}{due}.",
    )
