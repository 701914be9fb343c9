"""Messages: send (idempotent by sender and client id), edit, delete, read markers, system messages.

Each write commits first; its event leaves after commit, to every member of the room (`chat.broadcast`)."""

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from chat.broadcast import event_text, room_event_on_commit
from chat.errors import ChatError, ChatErrorCode
from chat.locks import membership_locking_room, rooms_for_update
from chat.models import MESSAGE_MAX_LENGTH, ChatRoom, Message, Participant, RoomKind
from chat.selectors import membership, room_not_found, subject_room_key
from chat.services.payloads import message_event_text
from chat.throttling import attachment_bytes_give_back, attachment_bytes_take
from files.checks import check_upload
from files.storage import delete_file_on_commit


def _text_check(text: str, *, required: bool) -> str:
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ChatError(
            f"A message has at most {MESSAGE_MAX_LENGTH} characters.",
            ChatErrorCode.TEXT_TOO_LONG,
            fields={"text": [f"At most {MESSAGE_MAX_LENGTH} characters."]},
        )
    if required and not text.strip():
        raise ChatError("A message needs text.", ChatErrorCode.TEXT_REQUIRED, fields={"text": ["Required."]})
    return text


def _existing_send(sender: User, client_id: str, room_id: int) -> Message | None:
    try:
        message = Message.objects.get(sender=sender, client_id=client_id)
    except Message.DoesNotExist:
        return None
    message.sender = sender  # the same user: serialized without loading it again
    if message.room_id != room_id:
        raise ChatError(
            "This client_id was used for a message in another room.",
            ChatErrorCode.CLIENT_ID_REUSED,
            status=409,
            fields={"client_id": ["Already used."]},
        )
    return message


def message_post(
    *,
    sender: User,
    room_id: int,
    text: str,
    client_id: str,
    reply_to_id: int | None = None,
    attachment: UploadedFile | None = None,
) -> tuple[Message, bool]:
    """Store a message and broadcast it after commit. Idempotent by `(sender, client_id)`: a repeated send
    returns the stored message and `created=False`, and broadcasts nothing.

    This is the hot path of the chat: three statements and the commit. The membership check locks the room
    (ids within a room are then handed out in commit order, chat/locks.py); a repeated `client_id` is caught by
    its unique constraint rather than looked up before every insert."""
    _text_check(text, required=attachment is None)
    quota = None
    if attachment is not None:
        check_upload(attachment, field="attachment")
        quota = attachment_bytes_take(sender.pk, attachment.size)
    try:
        message, created = _message_store(sender, room_id, text, client_id, reply_to_id, attachment)
    except BaseException:
        if attachment is not None:
            attachment_bytes_give_back(sender.pk, quota, attachment.size)
        raise
    if not created and attachment is not None:
        attachment_bytes_give_back(sender.pk, quota, attachment.size)  # a repeated send stored nothing new
    return message, created


def _message_store(sender, room_id, text, client_id, reply_to_id, attachment) -> tuple[Message, bool]:
    try:
        with transaction.atomic():
            read_only = membership_locking_room(room_id, sender.pk)
            if read_only is None:
                raise room_not_found()
            if read_only:
                raise ChatError("You may read this room but not write in it.", ChatErrorCode.ROOM_READ_ONLY, status=403)
            if reply_to_id is not None and not Message.objects.filter(pk=reply_to_id, room_id=room_id).exists():
                raise ChatError(
                    "The message replied to is not in this room.",
                    ChatErrorCode.MESSAGE_NOT_FOUND,
                    fields={"reply_to": ["Not found."]},
                )
            message = Message.objects.create(
                room_id=room_id,
                sender=sender,
                text=text,
                client_id=client_id,
                reply_to_id=reply_to_id,
                attachment=attachment,
                attachment_name=(attachment.name or "")[:255] if attachment is not None else "",
            )
            _room_touch(room_id, message)
            room_event_on_commit(room_id, message_event_text("message.new", message), message_id=message.pk)
    except IntegrityError:
        # The (sender, client_id) constraint: this is a repeated send, answered with the stored message.
        existing = _existing_send(sender, client_id, room_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def system_message_post(*, room: ChatRoom, text: str) -> Message:
    """A message without a sender (e.g. "assignment published"), stored and broadcast like any other."""
    messages = _system_messages_post(ChatRoom.objects.filter(pk=room.pk), text)
    if not messages:
        raise room_not_found()
    return messages[0]


def system_message_post_to_subject_rooms(
    *, teacher_id: int, subject_id: int, student_ids: list[int], text: str
) -> list[Message]:
    """Post the same system message in the subject room of each student with this teacher and subject
    (students without such a room, e.g. an ended enrollment, are skipped)."""
    keys = [subject_room_key(student_id, teacher_id, subject_id) for student_id in student_ids]
    return _system_messages_post(ChatRoom.objects.filter(kind=RoomKind.SUBJECT, key__in=keys), text)


def _system_messages_post(rooms, text: str) -> list[Message]:
    """The same system message in each of `rooms`, in a fixed number of statements whatever their number: the
    rooms locked together (`rooms_for_update`), the messages inserted in one statement, each room's last message
    set in one; broadcast after commit."""
    _text_check(text, required=True)
    with transaction.atomic():
        locked = rooms_for_update(rooms)
        if not locked:
            return []
        messages = Message.objects.bulk_create([Message(room=room, sender=None, text=text) for room in locked])
        for room, message in zip(locked, messages, strict=True):
            room.last_message, room.last_activity_at = message, message.created_at
            room_event_on_commit(room.pk, message_event_text("message.new", message), message_id=message.pk)
        ChatRoom.objects.bulk_update(locked, ["last_message", "last_activity_at"])
    return messages


def _room_touch(room_id: int, message: Message) -> None:
    ChatRoom.objects.filter(pk=room_id).update(last_message=message, last_activity_at=message.created_at)


def _own_message_for_update(user: User, message_id: int) -> Message:
    message = (
        Message.objects.select_for_update(of=("self",))
        .filter(pk=message_id, room__participants__user=user)
        .select_related("reply_to")
        .first()
    )
    if message is None:
        raise ChatError("Message not found.", ChatErrorCode.MESSAGE_NOT_FOUND, status=404)
    if message.sender_id != user.pk:
        raise ChatError("Only the author changes a message.", ChatErrorCode.NOT_AUTHOR, status=403)
    message.sender = user  # the same user: serialized without loading it again
    return message


def message_edit(*, user: User, message_id: int, text: str) -> Message:
    """The author replaces the text; members get `message.updated`."""
    _text_check(text, required=True)
    with transaction.atomic():
        message = _own_message_for_update(user, message_id)
        if message.is_deleted:
            raise ChatError("A deleted message cannot be edited.", ChatErrorCode.MESSAGE_DELETED, status=409)
        message.text = text
        message.edited_at = timezone.now()
        message.save(update_fields=["text", "edited_at"])
        room_event_on_commit(message.room_id, message_event_text("message.updated", message))
    return message


def message_delete(*, user: User, message_id: int) -> Message:
    """The author deletes: the message keeps its id and place, loses its text and attachment; members get
    `message.deleted`. Deleting again changes nothing."""
    with transaction.atomic():
        message = _own_message_for_update(user, message_id)
        if message.is_deleted:
            return message
        delete_file_on_commit(message.attachment)
        message.text = ""
        message.attachment = ""
        message.attachment_name = ""
        message.deleted_at = timezone.now()
        message.save(update_fields=["text", "attachment", "attachment_name", "deleted_at"])
        room_event_on_commit(message.room_id, message_event_text("message.deleted", message))
    return message


def read_marker_move(*, user: User, room_id: int, message_id: int) -> int:
    """Move the user's read marker in the room forward to `message_id` (never back); returns the marker.
    Members get a `read` event when it moved."""
    if membership(user.pk, room_id) is None:
        raise room_not_found()
    if not Message.objects.filter(pk=message_id, room_id=room_id).exists():
        raise ChatError(
            "Message not found in this room.", ChatErrorCode.MESSAGE_NOT_FOUND, fields={"message_id": ["Not found."]}
        )
    with transaction.atomic():
        # One conditional UPDATE: concurrent markers can only ever leave the highest one.
        moved = Participant.objects.filter(room_id=room_id, user=user, last_read_message_id__lt=message_id).update(
            last_read_message_id=message_id
        )
        if moved:
            text = event_text("read", room=room_id, user=user.pk, message_id=message_id)
            room_event_on_commit(room_id, text)
            return message_id
    return Participant.objects.filter(room_id=room_id, user=user).values_list("last_read_message_id", flat=True)[0]
