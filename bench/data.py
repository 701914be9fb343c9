"""Bench-only data: after `seed_demo --scale small`, enough rows for every benchmarked list to return a full
page of 20 for the demo teacher (materials, lessons, assignments, chat rooms) and the demo admin (users).

Uses the models directly (not the services: no jobs), except that a new enrollment is followed by chat's rooms sync,
as every write of an enrollment is. Idempotent: tops up to `ROWS` each.
Run with `python -m bench.data` from the project root (DJANGO_SETTINGS_MODULE defaults to config.settings).
"""

import os
from datetime import timedelta
from decimal import Decimal

ROWS = 25


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from assignments.models import Assignment, AssignmentStatus
    from chat.models import ChatRoom, Message, Participant, RoomKind
    from chat.services import rooms_sync_for_student
    from enrollments.models import Enrollment, Subject
    from materials.models import Material, MaterialStatus
    from scheduling.models import Lesson

    teacher = User.objects.get(email="teacher@demo.thebot")
    student = User.objects.get(email="student@demo.thebot")
    subject = Subject.objects.get(name="Mathematics")
    now = timezone.now()
    with transaction.atomic():
        students = list(User.objects.filter(role=Role.STUDENT, email__startswith="bench-student"))
        for n in range(len(students), ROWS):
            extra = User.objects.create_user(
                f"bench-student-{n}@demo.thebot", None, role=Role.STUDENT, first_name="Bench", last_name=f"S{n}"
            )
            Enrollment.objects.create(student=extra, teacher=teacher, subject=subject, is_active=True)
            # As every write of an enrollment does (materials' services and admin): chat makes its rooms after commit.
            transaction.on_commit(lambda student=extra: rooms_sync_for_student(student))
            students.append(extra)
        for n in range(Material.objects.filter(author=teacher).count(), ROWS):
            Material.objects.create(
                title=f"Bench material {n}",
                description="Fractions, decimals and percentages. " * 4,
                content="Worked examples. " * 40,
                status=MaterialStatus.PUBLISHED,
                subject=subject,
                author=teacher,
            )
        for n in range(Lesson.objects.filter(teacher=teacher).count(), ROWS):
            start = now + timedelta(days=1 + n, hours=2)
            Lesson.objects.create(
                teacher=teacher,
                student=student if n % 2 else students[n % len(students)],
                subject=subject,
                start=start,
                end=start + timedelta(hours=1),
                topic=f"Bench lesson {n}",
                meeting_url="https://meet.example/bench",
                created_by=teacher,
            )
        for n in range(Assignment.objects.filter(teacher=teacher).count(), ROWS):
            Assignment.objects.create(
                teacher=teacher,
                subject=subject,
                title=f"Bench homework {n}",
                description="Solve exercises 1 to 10.",
                due_at=now + timedelta(days=7),
                max_score=Decimal("10.00"),
                status=AssignmentStatus.PUBLISHED,
                published_at=now,
            )
        existing = ChatRoom.objects.filter(participants__user=teacher).count()
        for n in range(existing, ROWS):
            room = ChatRoom.objects.create(kind=RoomKind.GROUP, name=f"Bench room {n}", created_by=teacher)
            Participant.objects.create(room=room, user=teacher)
            Participant.objects.create(room=room, user=student)
            Participant.objects.create(room=room, user=students[n % len(students)])
            message = Message.objects.create(room=room, sender=student, text=f"Question {n} about fractions")
            ChatRoom.objects.filter(pk=room.pk).update(last_message=message, last_activity_at=message.created_at)
    print(
        "bench data:",
        {
            "users": User.objects.count(),
            "materials": Material.objects.filter(author=teacher).count(),
            "lessons": Lesson.objects.filter(teacher=teacher).count(),
            "assignments": Assignment.objects.filter(teacher=teacher).count(),
            "rooms": ChatRoom.objects.filter(participants__user=teacher).count(),
        },
    )


if __name__ == "__main__":
    main()
