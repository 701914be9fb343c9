from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import Truncator

from accounts.admin import UnlabelledRawIdMixin, ViewOnlyMixin
from chat.models import ChatRoom, Message, Participant


class ParticipantInline(UnlabelledRawIdMixin, admin.TabularInline):
    """Members of the room; each row's title names the member (loaded with the rows), new ones by user id."""

    model = Participant
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "read_only", "muted", "last_read_message_id", "joined_at"]
    readonly_fields = ["joined_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "room")


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    """Rooms are made by the services (direct rooms on request, subject rooms per enrollment): what makes a
    room what it is stays fixed here; the name and the members' flags can be changed."""

    list_display = ["id", "kind", "name", "subject", "student", "members", "last_activity_at"]
    list_select_related = ["subject", "student"]
    list_filter = ["kind", "subject"]
    search_fields = ["name", "student__email", "student__last_name"]
    readonly_fields = [
        "kind",
        "key",
        "subject",
        "student",
        "created_by",
        "created_at",
        "last_activity_at",
        "last_message_text",
    ]
    fields = ["kind", "name", "key", "subject", "student", "created_by", "created_at", "last_activity_at"]
    inlines = [ParticipantInline]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        # A count per row as a subquery, so a page of rooms does not group every room's members first.
        members = (
            Participant.objects.filter(room=OuterRef("pk")).order_by().values("room").annotate(n=Count("*")).values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("subject", "student", "created_by", "last_message__sender")
            .annotate(member_count=Coalesce(Subquery(members, output_field=IntegerField()), 0))
        )

    def get_fields(self, request, obj=None):
        return [*self.fields, "last_message_text"] if obj is not None else self.fields

    @admin.display(description="members", ordering="member_count")
    def members(self, room: ChatRoom) -> int:
        return room.member_count

    @admin.display(description="last message")
    def last_message_text(self, room: ChatRoom) -> str:
        message = room.last_message
        if message is None:
            return "-"
        author = message.sender.full_name if message.sender_id else "System"
        return f"{author}: {Truncator(message.text).chars(200)}" if not message.is_deleted else f"{author}: (deleted)"

    def has_add_permission(self, request):
        return False


@admin.register(Message)
class MessageAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Read-only: messages are written, edited and deleted by their senders through the API and WebSocket."""

    list_display = ["id", "room", "sender", "short_text", "created_at", "edited_at", "deleted_at"]
    list_filter = ["room__kind", ("deleted_at", admin.EmptyFieldListFilter), ("sender", admin.EmptyFieldListFilter)]
    search_fields = ["text", "sender__email"]
    fields = [
        "room",
        "sender",
        "text",
        "reply_to_text",
        "attachment",
        "attachment_name",
        "client_id",
        "created_at",
        "edited_at",
        "deleted_at",
    ]
    readonly_fields = fields
    list_select_related = ["room", "sender"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("room", "sender", "reply_to__sender")

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        return "(deleted)" if message.is_deleted else Truncator(message.text).chars(80)

    @admin.display(description="reply to")
    def reply_to_text(self, message: Message) -> str:
        reply_to = message.reply_to
        if reply_to is None:
            return "-"
        author = reply_to.sender.full_name if reply_to.sender_id else "System"
        return f"#{reply_to.pk} {author}: {Truncator(reply_to.text).chars(80)}"
