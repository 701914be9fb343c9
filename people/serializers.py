"""Serializers of user administration and of the own-profile API: one per use. The user as it is shown
(`UserSerializer`, with the profile of their role) is accounts' own, shared with the login response."""

from rest_framework import serializers

from accounts.models import Role, User, validate_timezone
from accounts.serializers import UserSerializer
from config.parsing import BoundedIntegerField, CharField, IdField, IdRelatedField


class ProfileInputSerializer(serializers.Serializer):
    """Every profile field that exists; the service decides which ones the caller may set."""

    grade = BoundedIntegerField(min_value=1, max_value=12, allow_null=True, required=False)
    goal = CharField(max_length=2000, allow_blank=True, required=False)
    bio = CharField(max_length=5000, allow_blank=True, required=False)
    experience_years = BoundedIntegerField(min_value=0, max_value=80, required=False)
    tutor = IdRelatedField(queryset=User.objects.all(), allow_null=True, required=False)
    parent = IdRelatedField(queryset=User.objects.all(), allow_null=True, required=False)


class OwnProfileInputSerializer(ProfileInputSerializer):
    """One's own profile: the links (tutor, parent) are never one's own to set, and the service refuses them; they are
    parsed as ids but not looked up, so an existing and a missing user get the same answer (no probing of ids)."""

    tutor = IdField(allow_null=True, required=False)
    parent = IdField(allow_null=True, required=False)


class _RejectReadOnlyMixin:
    """Refuse, rather than silently ignore, an attempt to write a field that cannot be changed here."""

    read_only_inputs: tuple[str, ...] = ()

    def validate(self, attrs):
        forbidden = [name for name in self.read_only_inputs if name in self.initial_data]
        if forbidden:
            raise serializers.ValidationError({name: ["This field cannot be changed."] for name in forbidden})
        return attrs


class MeUpdateSerializer(_RejectReadOnlyMixin, serializers.Serializer):
    read_only_inputs = ("id", "email", "role", "is_staff", "is_superuser", "is_active", "telegram_chat_id")

    first_name = CharField(max_length=150, allow_blank=True, required=False)
    last_name = CharField(max_length=150, allow_blank=True, required=False)
    timezone = CharField(max_length=64, required=False, validators=[validate_timezone])
    phone = CharField(max_length=32, allow_blank=True, required=False)
    profile = OwnProfileInputSerializer(required=False)


class AdminUserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = CharField(max_length=128, required=False, trim_whitespace=False)
    first_name = CharField(max_length=150, allow_blank=True, default="")
    last_name = CharField(max_length=150, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    timezone = CharField(max_length=64, default="UTC", validators=[validate_timezone])
    phone = CharField(max_length=32, allow_blank=True, default="")
    profile = ProfileInputSerializer(required=False)


class AdminUserUpdateSerializer(_RejectReadOnlyMixin, serializers.Serializer):
    read_only_inputs = ("id", "role", "is_staff", "is_superuser", "password", "telegram_chat_id")

    email = serializers.EmailField(max_length=254, required=False)
    first_name = CharField(max_length=150, allow_blank=True, required=False)
    last_name = CharField(max_length=150, allow_blank=True, required=False)
    timezone = CharField(max_length=64, required=False, validators=[validate_timezone])
    phone = CharField(max_length=32, allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False)
    profile = ProfileInputSerializer(required=False)


class AdminUserCreatedSerializer(UserSerializer):
    temporary_password = CharField(read_only=True, allow_null=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "temporary_password"]
        read_only_fields = fields


class TemporaryPasswordSerializer(serializers.Serializer):
    temporary_password = CharField()


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = CharField(max_length=32)
    token = CharField(max_length=64)
    new_password = CharField(max_length=128, trim_whitespace=False)


class PasswordResetAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()
