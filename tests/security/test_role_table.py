"""The role table (tests/security/role_table.py) against real answers: every operation of the OpenAPI schema, as
anonymous and as each of the five roles, on the objects of the caller's own family. 0 mismatches, 0 operations
without a row, 0 rows without an operation."""

import pytest

from tests.security.bodies import body_for
from tests.security.probe import call, outcome
from tests.security.role_table import COLUMNS, ROLE_TABLE
from tests.security.world import ACTORS, OPERATIONS, build_world, clients, fill, split

pytestmark = pytest.mark.django_db


def test_every_operation_of_the_schema_has_a_row_and_every_row_an_operation():
    assert tuple(str(actor) for actor in ACTORS) == COLUMNS
    assert sorted(set(OPERATIONS) - set(ROLE_TABLE)) == [], "operations without a row in role_table.py"
    assert sorted(set(ROLE_TABLE) - set(OPERATIONS)) == [], "rows of role_table.py whose operation is gone"


def test_each_actor_gets_what_the_table_says():
    """One world for all operations: each call runs in a savepoint that is rolled back (tests/security/probe.py)."""
    world = build_world()
    actors = clients(world)
    mismatches = {}
    for key, row in ROLE_TABLE.items():
        url = fill(split(key)[1], world.a)
        got = tuple(outcome(call(actors[actor], key, url, *body_for(key, world))) for actor in ACTORS)
        for column, want, have in zip(COLUMNS, row, got, strict=True):
            if want != have:
                mismatches[f"{key} as {column}"] = f"table {want!r}, answer {have!r}"
    print(f"role table: {len(ROLE_TABLE)} operations x {len(COLUMNS)} actors, {len(mismatches)} mismatches")
    assert not mismatches
