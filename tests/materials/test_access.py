"""One material through `selectors.access_material` (404 `not_found` alike for missing and not visible) and
`services.check_can_manage_material` (its author or an admin; 403 for the others who see it)."""

import pytest
from django.db import transaction

from config.exceptions import ApiError, NotFound
from materials import selectors, services
from tests.materials.factories import MaterialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def material(room):
    return MaterialFactory(subject=room.math, author=room.teacher, status="published")


@pytest.mark.parametrize("who", ["teacher", "s1", "tutor", "parent", "admin"])
def test_those_who_see_a_material_get_it(room, material, who):
    assert selectors.access_material(getattr(room, who), material.pk) == material


@pytest.mark.parametrize("who", ["other_teacher", "s3", "other_parent"])
def test_a_material_out_of_sight_is_not_found_like_a_missing_one(room, material, who):
    for material_id in (material.pk, material.pk + 1000):
        with pytest.raises(NotFound) as caught:
            selectors.access_material(getattr(room, who), material_id)
        assert caught.value.code == "not_found"


def test_for_update_locks_the_row_inside_a_transaction(room, material):
    with transaction.atomic():
        assert selectors.access_material(room.teacher, material.pk, for_update=True) == material
    with transaction.atomic(), pytest.raises(NotFound):
        selectors.access_material(room.s3, material.pk, for_update=True)


@pytest.mark.parametrize(("who", "allowed"), [("teacher", True), ("admin", True), ("s1", False), ("tutor", False)])
def test_only_the_author_or_an_admin_manages_a_material(room, material, who, allowed):
    if allowed:
        services.check_can_manage_material(getattr(room, who), material)
        return
    with pytest.raises(ApiError) as caught:
        services.check_can_manage_material(getattr(room, who), material)
    assert (caught.value.status_code, caught.value.code) == (403, "permission_denied")
