"""Serializers of the chat, one per use. Read serializers expect the querysets of chat.selectors."""

from rest_framework import serializers

from accounts.serializers import PersonSerializer
from chat.models import CLIENT_ID_MAX_LENGTH, MESSAGE_MAX_LENGTH, ChatRoom, Message, Participant, RoomKind
from chat.selectors import HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT
from chat.services.payloads import message_payload
from config.parsing import BIGINT_MAX, BoundedIntegerField, CharField, IdField, ModelSerializer
from enrollments.serializers import SubjectBriefSerializer


class MessageSerializer(ModelSerializer):
    """A message as the API and the live events show it (`sender` null for a system message). The fields are
    declared for the schema; the payload is built by the one marshaller, `chat.services.payloads.message_payload`,
    which the live events use too."""

    sender = PersonSerializer(read_only=True, allow_null=True)
    deleted = serializers.BooleanField(source="is_deleted", read_only=True)
    attachment_url = CharField(read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "room",
            "sender",
            "text",
            "client_id",
            "reply_to",
            "attachment_url",
            "attachment_name",
            "created_at",
            "edited_at",
            "deleted",
        ]
        read_only_fields = fields

    def to_representation(self, message: Message) -> dict:
        return message_payload(message)


class ParticipantSerializer(ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = Participant
        fields = ["user", "read_only", "last_read_message_id"]
        read_only_fields = fields


class RoomSerializer(ModelSerializer):
    """A room in the user's list: `unread_count`, `read_only` and `muted` are the caller's."""

    subject = SubjectBriefSerializer(allow_null=True, read_only=True)
    student = PersonSerializer(allow_null=True, read_only=True, help_text="The student a subject room is about.")
    last_message = MessageSerializer(allow_null=True, read_only=True)
    unread_count = serializers.IntegerField(read_only=True)
    read_only = serializers.BooleanField(source="my_read_only", read_only=True)
    muted = serializers.BooleanField(source="my_muted", read_only=True)
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta:
        model = ChatRoom
        fields = [
            "id",
            "kind",
            "name",
            "subject",
            "student",
            "created_at",
            "last_activity_at",
            "last_message",
            "unread_count",
            "read_only",
            "muted",
            "participants",
        ]
        read_only_fields = fields


class RoomCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[RoomKind.DIRECT, RoomKind.GROUP])
    user = IdField(required=False)
    name = CharField(max_length=200, required=False)
    users = serializers.ListField(child=IdField(), required=False, max_length=200)

    def validate(self, attrs):
        if attrs["kind"] == RoomKind.DIRECT and "user" not in attrs:
            raise serializers.ValidationError({"user": ["Required for a direct room."]})
        if attrs["kind"] == RoomKind.GROUP:
            missing = {name: ["Required for a group room."] for name in ("name", "users") if name not in attrs}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class MessageCreateSerializer(serializers.Serializer):
    text = CharField(max_length=MESSAGE_MAX_LENGTH, allow_blank=True, trim_whitespace=False, default="")
    client_id = CharField(max_length=CLIENT_ID_MAX_LENGTH)
    reply_to = IdField(required=False, allow_null=True)
    attachment = serializers.FileField(required=False, allow_null=True)


class MessageEditSerializer(serializers.Serializer):
    text = CharField(max_length=MESSAGE_MAX_LENGTH, trim_whitespace=False)


class ReadMarkerSerializer(serializers.Serializer):
    message_id = IdField()


class ReadMarkerResultSerializer(serializers.Serializer):
    room = serializers.IntegerField()
    last_read_message_id = serializers.IntegerField()


class HistoryQuerySerializer(serializers.Serializer):
    before = IdField(required=False)
    after = BoundedIntegerField(required=False, min_value=0, max_value=BIGINT_MAX)
    limit = BoundedIntegerField(required=False, min_value=1, max_value=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT)


class HistoryPageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    has_more = serializers.BooleanField()


class TicketSerializer(serializers.Serializer):
    ticket = CharField()
    expires_in = serializers.IntegerField()
