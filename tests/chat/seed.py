"""`python -m tests.chat.seed <members> <outsiders> <migrate>`: fill the database named by DATABASE_URL for an
end-to-end run and print what was made as one JSON line."""

import json
import sys
import uuid


def main(members: int, outsiders: int, migrate: bool) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0)
    from knox.models import AuthToken

    from accounts.models import Role, User
    from tests.accounts.factories import UserFactory
    from tests.chat.factories import group_room

    run = uuid.uuid4().hex[:8]

    def user(index: int, role: str) -> User:
        return UserFactory(email=f"e2e-{run}-{index}@example.test", password=None, role=role, first_name=f"U{index}")

    people = [user(0, Role.TEACHER)] + [user(index, Role.STUDENT) for index in range(1, members)]
    others = [user(members + index, Role.STUDENT) for index in range(outsiders)]
    room = group_room(*people, name=f"e2e {run}")
    tokens = {person.pk: AuthToken.objects.create(user=person)[1] for person in people + others}
    return {
        "room": room.pk,
        "members": [person.pk for person in people],
        "outsiders": [person.pk for person in others],
        "tokens": {str(user_id): token for user_id, token in tokens.items()},
    }


if __name__ == "__main__":
    members, outsiders, migrate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    print(json.dumps(main(members, outsiders, migrate)))
