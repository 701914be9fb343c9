"""`config.representation.DirectRepresentation` answers exactly what DRF's own `to_representation` answers.

Every endpoint of tests/config/test_person_shape.py's small school (every kind of record, every role) is read twice:
as served, and with the mixin taken out of the method resolution (DRF's `Serializer.to_representation` then runs
for every model serializer); the two bodies are equal. Then the edge cases one by one on plain serializers.
"""

import pytest
from rest_framework import serializers

from accounts.models import User
from config.representation import DirectRepresentation
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.config.test_person_shape import school  # noqa: F401 - the fixture
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def read_all(school) -> dict:  # noqa: F811 - the fixture's value
    return {
        (who, path): client_for(school[who]).get(path).json()
        for who in ("teacher", "student", "tutor", "parent", "admin")
        for path in school["paths"][who]
    }


def test_every_endpoint_answers_the_same_as_with_drfs_own_representation(school, monkeypatch):  # noqa: F811
    direct = read_all(school)
    monkeypatch.delattr(DirectRepresentation, "to_representation")
    assert read_all(school) == direct


class Person(DirectRepresentation, serializers.ModelSerializer):
    full = serializers.SerializerMethodField()
    initials = serializers.CharField(source="get_short_name", read_only=True)  # a method: DRF calls it
    profile_grade = serializers.IntegerField(source="student_profile.grade", read_only=True)  # dotted: DRF's way
    teacher_profile = serializers.CharField(read_only=True, allow_null=True)  # a missing reverse one-to-one
    missing = serializers.CharField(read_only=True)  # no such attribute: DRF leaves the key out

    class Meta:
        model = User
        fields = ["id", "email", "role", "full", "initials", "profile_grade", "teacher_profile", "missing"]

    def get_full(self, user) -> str:
        return f"{user.first_name}|{user.last_name}"


class PlainPerson(Person):
    to_representation = serializers.ModelSerializer.to_representation


@pytest.mark.parametrize("make", [StudentFactory, TeacherFactory])
def test_edge_cases_match_drf(make):
    user = make()
    direct = Person(user).data
    assert direct == PlainPerson(user).data
    assert "missing" not in direct
    assert direct["full"] == f"{user.first_name}|{user.last_name}"


def test_a_dict_goes_the_drf_way():
    row = {"id": 1, "email": "a@b.c", "role": "student", "first_name": "A", "last_name": "B"}

    class Row(DirectRepresentation, serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()

    assert Row(row).data == {"id": 1, "email": "a@b.c"}
