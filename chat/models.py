"""Chat rooms, their participants and messages."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.text import Truncator

from files.storage import upload_to

MESSAGE_MAX_LENGTH = 10_000
CLIENT_ID_MAX_LENGTH = 64


class RoomKind(models.TextChoices):
    DIRECT = "direct", "Direct"
    GROUP = "group", "Group"
    SUBJECT = "subject", "Subject"


class ChatRoom(models.Model):
    """A conversation. `key` makes the rooms that exist once unique: a direct room per pair of users
    (`direct:<lower id>:<higher id>`) and a subject room per student, teacher and subject."""

    kind = models.CharField(max_length=16, choices=RoomKind.choices)
    name = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    subject = models.ForeignKey(
        "enrollments.Subject", null=True, blank=True, on_delete=models.PROTECT, related_name="chat_rooms"
    )
    # The student a subject room is about: their tutor reads it.
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="subject_chat_rooms"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_chat_rooms"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    # Denormalized so that the rooms list shows the last message without a query per room.
    last_message = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=RoomKind.values), name="chat_room_kind_valid"),
            models.CheckConstraint(
                condition=~models.Q(kind=RoomKind.SUBJECT) | models.Q(subject__isnull=False, student__isnull=False),
                name="chat_subject_room_has_subject_and_student",
            ),
        ]
        indexes = [models.Index(fields=["-last_activity_at", "-id"], name="chat_room_activity")]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} room {self.pk}"


class Participant(models.Model):
    """A user in a room. `read_only` participants (a student's tutor in a subject room) read but do not write."""

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_participations")
    joined_at = models.DateTimeField(auto_now_add=True)
    # Id of the newest message the user has read; only ever moves forward (0: nothing read).
    last_read_message_id = models.PositiveBigIntegerField(default=0)
    muted = models.BooleanField(default=False)
    read_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["room_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="chat_participant_once_per_room")]
        indexes = [models.Index(fields=["user", "room"], name="chat_participant_user")]

    def __str__(self) -> str:
        return f"{self.user.full_name} in {self.room}"


class Message(models.Model):
    """A message. A system message has no sender. A deleted message keeps its place (id) without its content."""

    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="chat_messages"
    )
    text = models.TextField(blank=True)
    # Chosen by the client so that a retried send stores one message; unique per sender.
    client_id = models.CharField(max_length=CLIENT_ID_MAX_LENGTH, null=True, blank=True)
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attachment = models.FileField(upload_to=upload_to("chat"), blank=True, max_length=200)
    attachment_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sender", "client_id"], name="chat_message_client_id_once_per_sender"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), MESSAGE_MAX_LENGTH), name="chat_message_text_length"
            ),
        ]
        indexes = [models.Index(fields=["room", "id"], name="chat_message_room_id")]

    def __str__(self) -> str:
        author = self.sender.full_name if self.sender_id else "System"
        text = "(deleted)" if self.is_deleted else Truncator(self.text).chars(40)
        return f"{author} in {self.room}: {text}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
