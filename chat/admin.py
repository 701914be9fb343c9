from django.contrib import admin

from chat.models import ChatRoom, Message, Participant


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "read_only", "muted", "last_read_message_id", "joined_at"]
    readonly_fields = ["joined_at"]


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "name", "subject", "student", "last_activity_at"]
    list_filter = ["kind"]
    search_fields = ["name", "participants__user__email"]
    raw_id_fields = ["subject", "student", "created_by", "last_message"]
    readonly_fields = ["key", "created_at", "last_activity_at"]
    inlines = [ParticipantInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "sender", "short_text", "created_at", "edited_at", "deleted_at"]
    list_filter = ["room__kind", "deleted_at"]
    search_fields = ["text"]
    raw_id_fields = ["room", "sender", "reply_to"]
    readonly_fields = ["client_id", "created_at", "edited_at", "deleted_at"]
    list_select_related = ["room", "sender"]

    @admin.display(description="text")
    def short_text(self, message: Message) -> str:
        return message.text[:80]
