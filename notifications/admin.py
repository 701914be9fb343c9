"""Django admin of notifications: the open Telegram deep links (view only)."""

from django.contrib import admin
from django.utils import timezone

from accounts.admin import ViewOnlyMixin
from notifications.models import TelegramLinkCode


class LinkCodeStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("valid", "not expired"), ("expired", "expired")]

    def queryset(self, request, queryset):
        if self.value() == "valid":
            return queryset.filter(expires_at__gt=timezone.now())
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=timezone.now())
        return queryset


@admin.register(TelegramLinkCode)
class TelegramLinkCodeAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Open Telegram deep links (who asked, until when). Only the code's SHA-256 is stored, and it is not shown;
    deleting a row cancels that link."""

    list_display = ["id", "user", "created_at", "expires_at"]
    list_select_related = ["user"]
    list_filter = [LinkCodeStateFilter, "user__role"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    fields = ["user", "created_at", "expires_at"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")
