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
