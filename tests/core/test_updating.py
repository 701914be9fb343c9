import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Role
from accounts.permissions import HasRole
from core.updating import model_update
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_model_update_saves_only_listed_changed_fields(django_assert_num_queries):
    user = UserFactory(first_name="Ann", last_name="Lee")
    with django_assert_num_queries(1):
        changed = model_update(user, {"first_name": "Anna", "last_name": "Lee"}, fields=("first_name", "last_name"))
    assert changed == ["first_name"]
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Anna", "Lee")


def test_model_update_without_changes_writes_nothing(django_assert_num_queries):
    user = UserFactory(first_name="Ann")
    with django_assert_num_queries(0):
        assert model_update(user, {"first_name": "Ann"}, fields=("first_name",)) == []


def test_model_update_refuses_fields_outside_the_list():
    user = UserFactory(first_name="Ann")
    with pytest.raises(TypeError, match="role"):
        model_update(user, {"first_name": "X", "role": Role.ADMIN}, fields=("first_name",))
    user.refresh_from_db()
    assert user.first_name == "Ann"


class _Request:
    def __init__(self, user, method="POST"):
        self.user, self.method = user, method


@pytest.mark.parametrize(
    ("role", "reads_open", "method", "allowed"),
    [
        (Role.TEACHER, False, "POST", True),
        (Role.STUDENT, False, "POST", False),
        (Role.STUDENT, False, "GET", False),
        (Role.STUDENT, True, "GET", True),
        (Role.STUDENT, True, "POST", False),
        (Role.ADMIN, False, "POST", True),
    ],
)
def test_has_role(role, reads_open, method, allowed):
    gate = HasRole(Role.TEACHER, Role.ADMIN, reads_open=reads_open)()
    assert gate.has_permission(_Request(UserFactory(role=role), method), None) is allowed


def test_has_role_refuses_anonymous_and_unknown_roles():
    assert HasRole(Role.STUDENT, reads_open=True)().has_permission(_Request(AnonymousUser(), "GET"), None) is False
    with pytest.raises(ValueError, match="wizard"):
        HasRole("wizard")
