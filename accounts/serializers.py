"""Serializers of accounts: one per use. Read serializers expect the queryset of `accounts.selectors`."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Role, User, person_name
from accounts.profiles import profile_list_render
from config.parsing import CharField, ModelSerializer


class PersonSerializer(serializers.Serializer):
    """A reference to a person, the same everywhere (a lesson's teacher, a material's author, an invoice's parent,
    a chat message's sender, ...). Fields that name a person in a request take the plain id."""

    # No email: a student must not learn a teacher's address from a lesson. Expects the user loaded with the
    # object (select_related or prefetched), so it costs no query.

    id = serializers.IntegerField(read_only=True)
    name = CharField(read_only=True, help_text="Full name; the email's local part when it is empty.")
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)

    def to_representation(self, user):
        # Built directly: this runs for every person of every row of every list.
        return {"id": user.pk, "name": person_name(user), "role": user.role}


PERSON = PersonSerializer()


class StudentProfileSerializer(serializers.Serializer):
    grade = serializers.IntegerField(allow_null=True)
    goal = CharField()
    tutor = PersonSerializer(allow_null=True)
    parent = PersonSerializer(allow_null=True)


class TeacherProfileSerializer(serializers.Serializer):
    bio = CharField()
    experience_years = serializers.IntegerField()
    subjects = serializers.SerializerMethodField()

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_subjects(self, profile):
        # Owned by enrollments (`enrollments.profiles`), prefetched by the selector: no query here.
        return profile_list_render(Role.TEACHER, "subjects", profile.user)


class TutorProfileSerializer(serializers.Serializer):
    bio = CharField()


class ParentProfileSerializer(serializers.Serializer):
    children = serializers.SerializerMethodField()

    @extend_schema_field(PersonSerializer(many=True))
    def get_children(self, profile):
        return [PERSON.to_representation(child.user) for child in profile.user.children_profiles.all()]


PROFILE_SERIALIZERS = {
    Role.STUDENT: ("student_profile", StudentProfileSerializer),
    Role.TEACHER: ("teacher_profile", TeacherProfileSerializer),
    Role.TUTOR: ("tutor_profile", TutorProfileSerializer),
    Role.PARENT: ("parent_profile", ParentProfileSerializer),
}


# One instance per profile serializer, reused for every row: constructing a serializer per row binds all its
# fields again, which dominated the admin users list (profiled). `to_representation` keeps no state.
PROFILE_REPRESENTERS = {
    role: (related_name, serializer_class()) for role, (related_name, serializer_class) in PROFILE_SERIALIZERS.items()
}


class UserSerializer(ModelSerializer):
    """The full user with the profile of their role (as `/api/profile/me/` and the admin list show it)."""

    profile = serializers.SerializerMethodField()
    telegram_linked = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "timezone",
            "phone",
            "telegram_linked",
            "is_active",
            "date_joined",
            "last_login",
            "profile",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "nullable": True})
    def get_profile(self, user):
        related_name, representer = PROFILE_REPRESENTERS.get(user.role, (None, None))
        if related_name is None:
            return None
        profile = getattr(user, related_name, None)
        return representer.to_representation(profile) if profile is not None else None


# --- Input -----------------------------------------------------------------------------------------------
class LoginSerializer(serializers.Serializer):
    email = CharField(max_length=254)
    password = CharField(max_length=128, trim_whitespace=False)


class LoginResponseSerializer(serializers.Serializer):
    token = CharField()
    expires_at = serializers.DateTimeField()
    user = UserSerializer()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = CharField(max_length=128, trim_whitespace=False)
    new_password = CharField(max_length=128, trim_whitespace=False)


# --- OpenAPI: a user's profile typed by role (drf-spectacular extensions, registered when this module loads) ---
PROFILE_DESCRIPTION = "The profile of the user's role."


class UserSerializerExtension(OpenApiSerializerExtension):
    """A user as `UserSerializer` renders it: one variant per role (`role` is the discriminator), each with the
    profile of that role (`StudentProfile`, `TeacherProfile`, …; `null` for administrators)."""

    target_class = UserSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        base = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        base_name = auto_schema._get_serializer_name(self.target, direction, bypass_extensions=True)
        mapping = {}
        for role, label in Role.choices:
            properties = dict(base["properties"])
            properties["role"] = {"type": "string", "enum": [role], "readOnly": True}
            if role in PROFILE_SERIALIZERS:
                profile_ref = auto_schema.resolve_serializer(PROFILE_SERIALIZERS[role][1], direction).ref
                properties["profile"] = {"allOf": [profile_ref], "readOnly": True, "description": PROFILE_DESCRIPTION}
            else:
                properties["profile"] = {
                    "type": "object",
                    "nullable": True,
                    "readOnly": True,
                    "description": f"{label}s have no profile: always null.",
                }
            component = ResolvedComponent(
                name=f"{base_name}{role.capitalize()}",
                type=ResolvedComponent.SCHEMA,
                schema={**base, "properties": properties, "description": f"A user with role `{role}`."},
                object=f"{base_name}{role.capitalize()}",
            )
            auto_schema.registry.register_on_missing(component)
            mapping[role] = component.ref["$ref"]
        return {
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": "role", "mapping": mapping},
        }


class TeacherProfileSerializerExtension(OpenApiSerializerExtension):
    """`subjects` of a teacher's profile: the subjects they teach in active enrollments, `{id, name}` each."""

    target_class = TeacherProfileSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["properties"]["subjects"] = {
            "type": "array",
            "readOnly": True,
            "description": "The subjects the teacher teaches in active enrollments, by name.",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                "required": ["id", "name"],
            },
        }
        return schema
