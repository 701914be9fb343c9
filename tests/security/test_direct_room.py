"""Opening a direct room with another family's user is answered exactly like one with a missing user and writes
nothing, for every family role and every member of the other family (docs/security.md "Access control").

An early run of the object sweep seemed to show a teacher or tutor writing a room and its participants when naming
family B's student: the sweep's body for this operation was a group room, which ignores `user`, so both the
foreign and the missing request made the same group. The sweep now probes `user` on a direct room
(test_object_sweep.FIELD_BODIES); this test is the focused proof.
"""

import pytest

from accounts.models import Role
from chat.models import ChatRoom, Participant
from tests.security.probe import call
from tests.security.test_object_sweep import _shape
from tests.security.world import FAMILY_ROLES, MISSING, build_world, clients

pytestmark = pytest.mark.django_db

ROOMS = "/api/chat/rooms/"
KEY = f"POST {ROOMS}"


def test_direct_room_with_another_familys_user_is_like_a_missing_one():
    world = build_world()
    actors = clients(world)
    counts = ChatRoom.objects.count(), Participant.objects.count()
    seen = set()
    for role in FAMILY_ROLES:
        for target in FAMILY_ROLES:
            writes = {}

            def rows(response):
                seen.add((ChatRoom.objects.count(), Participant.objects.count()))

            foreign = call(
                actors[role],
                KEY,
                ROOMS,
                {"kind": "direct", "user": world.b.users[target].pk},
                writes=writes,
                after=rows,
            )
            missing = call(actors[role], KEY, ROOMS, {"kind": "direct", "user": MISSING})
            where = f"{role} -> family B's {target}"
            assert foreign.status_code == 404, where
            assert _shape(foreign) == _shape(missing), where
            assert writes["diff"] == {}, where
    assert seen == {counts}


@pytest.mark.parametrize("role", [Role.TEACHER, Role.TUTOR])
def test_direct_room_with_own_familys_student_is_opened(role):
    """The same request naming the caller's own student does open the room: the refusal above is the rule, not
    a broken request."""
    world = build_world()
    response = clients(world)[role].post(ROOMS, {"kind": "direct", "user": world.a.student.pk}, format="json")
    assert response.status_code in (200, 201)
    assert {p["user"]["id"] for p in response.json()["participants"]} >= {world.a.student.pk}
