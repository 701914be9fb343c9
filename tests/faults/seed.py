"""`python -m tests.faults.seed <scenarios> <invoices each>`: migrate the database named by DATABASE_URL and fill
it for the fault suite; print what was made as one JSON line.

Per scenario: a group room (a teacher and 14 students: 3 on sockets, 10 HTTP clients, 1 numbered sender) and
draft invoices of one tutor to parents linked to Telegram (each invoice has its own parent, so a Telegram message
names its invoice by chat id)."""

import json
import sys
import uuid


def main(scenarios: int, invoices: int) -> dict:
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from knox.models import AuthToken

    from accounts.models import Role, User
    from invoices.models import InvoiceStatus
    from tests.accounts.factories import ParentFactory, StudentFactory, TutorFactory, UserFactory, link_student
    from tests.chat.factories import group_room
    from tests.invoices.factories import InvoiceFactory

    run = uuid.uuid4().hex[:6]

    def user(name: str, role: str) -> User:
        return UserFactory(email=f"fault-{run}-{name}@example.test", password=None, role=role, first_name=name)

    tutor = TutorFactory()
    tutor_token = AuthToken.objects.create(user=tutor)[1]
    made = []
    chat_id = 9_000_000
    for index in range(scenarios):
        people = [user(f"s{index}-t", Role.TEACHER)] + [user(f"s{index}-u{n}", Role.STUDENT) for n in range(14)]
        room = group_room(*people, name=f"faults {run} {index}")
        tokens = [AuthToken.objects.create(user=person)[1] for person in people]
        bills = []
        for _ in range(invoices):
            chat_id += 1
            parent = ParentFactory(telegram_chat_id=chat_id)
            student = link_student(StudentFactory(), tutor=tutor, parent=parent)
            invoice = InvoiceFactory(
                tutor=tutor,
                student=student,
                parent=parent,
                amount=Decimal("1500.00"),
                due_date=timezone.localdate() + timedelta(days=7),
                status=InvoiceStatus.DRAFT,
                description="",
            )
            bills.append({"invoice": invoice.pk, "chat_id": chat_id})
        made.append({"room": room.pk, "tokens": tokens, "invoices": bills})
    return {"tutor_token": tutor_token, "scenarios": made}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
