"""Django admin for invoices. Statuses change only through the services (actions below), never by editing."""

from django.contrib import admin, messages

from accounts.admin import ViewOnlyMixin, role_filter
from accounts.models import Role
from config.exceptions import ApiError
from invoices import services
from invoices.models import Invoice, InvoiceStatusHistory, Payment


class InvoiceStatusHistoryInline(admin.TabularInline):
    model = InvoiceStatusHistory
    fields = ["changed_at", "old_status", "new_status", "changed_by", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-changed_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["id", "tutor", "parent", "student", "amount", "currency", "status", "due_date", "created_at"]
    list_filter = ["status", "due_date", role_filter("tutor", Role.TUTOR, "tutor")]
    search_fields = [
        "description",
        "tutor__email",
        "tutor__last_name",
        "parent__email",
        "parent__last_name",
        "student__email",
        "student__last_name",
    ]
    list_select_related = ["tutor", "parent", "student"]
    list_per_page = 50
    show_full_result_count = False
    raw_id_fields = ["tutor", "student", "parent", "enrollment", "payment"]
    readonly_fields = [
        "tutor",
        "student",
        "parent",
        "enrollment",
        "payment",
        "amount",
        "currency",
        "description",
        "status",
        "due_date",
        "sent_at",
        "viewed_at",
        "paid_at",
        "telegram_message_id",
        "created_at",
        "updated_at",
    ]
    inlines = [InvoiceStatusHistoryInline]
    actions = ["send_invoices", "mark_overdue"]

    def get_queryset(self, request):
        enrollment = ["enrollment__student", "enrollment__subject", "enrollment__teacher"]
        return super().get_queryset(request).select_related("tutor", "parent", "student", "payment", *enrollment)

    def has_add_permission(self, request):
        # Invoices are created by tutors through the API (the service checks who may bill whom).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _each(self, request, queryset, verb: str, run) -> None:
        done, failed = 0, 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                run(pk)
                done += 1
            except ApiError as error:
                failed += 1
                self.message_user(request, f"Invoice #{pk}: {error.detail}", messages.WARNING)
        self.message_user(request, f"{done} invoice(s) {verb}; {failed} skipped.", messages.INFO)

    @admin.action(description="Send selected invoices")
    def send_invoices(self, request, queryset):
        self._each(request, queryset, "sent", lambda pk: services.invoice_send(invoice_id=pk, by=request.user))

    @admin.action(description="Mark selected invoices overdue")
    def mark_overdue(self, request, queryset):
        self._each(
            request,
            queryset,
            "marked overdue",
            lambda pk: services.invoice_mark_overdue(invoice_id=pk, by=request.user),
        )


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "invoice", "provider", "provider_payment_id", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["provider_payment_id", "idempotence_key", "invoice__parent__email"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    list_select_related = ["invoice"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceStatusHistory)
class InvoiceStatusHistoryAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Every status change of every invoice, as the services wrote it: read-only."""

    list_display = ["id", "invoice", "old_status", "new_status", "changed_by", "changed_at", "reason"]
    list_select_related = ["invoice", "changed_by"]
    list_filter = ["new_status", "old_status", ("changed_by", admin.EmptyFieldListFilter)]
    search_fields = ["reason", "changed_by__email", "invoice__parent__email", "invoice__tutor__email"]
    date_hierarchy = "changed_at"
    fields = ["invoice", "old_status", "new_status", "changed_by", "changed_at", "reason"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "changed_by")

    def has_delete_permission(self, request, obj=None):
        return False
