from django.apps import AppConfig
from django.db.models.signals import post_save


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from assignments.signals import assignment_published
        from chat import layer, presence, receivers, sessions

        post_save.connect(
            receivers.enrollment_saved, sender="enrollments.Enrollment", dispatch_uid="chat_rooms_on_enrollment"
        )
        post_save.connect(
            receivers.student_profile_saved, sender="accounts.StudentProfile", dispatch_uid="chat_rooms_on_student"
        )
        assignment_published.connect(receivers.assignment_published, dispatch_uid="chat_assignment_published")
        # After a Redis outage: leases back first (Redis may have lost them), then every socket resyncs.
        layer.on_restored(presence.renew_now)
        layer.on_restored(sessions.resync_all)
