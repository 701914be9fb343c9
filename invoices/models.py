"""Invoices (a tutor bills a student's parent), their status history, and payments."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    VIEWED = "viewed", "Viewed"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"
    OVERDUE = "overdue", "Overdue"


class PaymentStatus(models.TextChoices):
    # Our own state before the provider answered the create call (the idempotence key is already fixed).
    CREATING = "creating", "Creating"
    PENDING = "pending", "Pending"
    WAITING_FOR_CAPTURE = "waiting_for_capture", "Waiting for capture"
    SUCCEEDED = "succeeded", "Succeeded"
    CANCELED = "canceled", "Canceled"


class Payment(models.Model):
    """One attempt to pay an invoice at the provider. The provider's id is unique: a payment is applied once."""

    invoice = models.ForeignKey("Invoice", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=32)
    provider_payment_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32, choices=PaymentStatus.choices, default=PaymentStatus.CREATING)
    idempotence_key = models.CharField(max_length=64, unique=True)
    confirmation_url = models.URLField(max_length=2000, blank=True)
    raw_last_notification = models.JSONField(null=True, blank=True)
    # When a webhook last claimed a read of this payment from the provider: at most one read per
    # PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS (invoices.services.paying._claim_provider_read).
    provider_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"Payment of {self.amount} {self.currency} at {self.provider} ({self.get_status_display().lower()})"


class Invoice(models.Model):
    tutor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices_issued")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices_as_student")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices_to_pay")
    enrollment = models.ForeignKey(
        "enrollments.Enrollment", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    # The payment that settled the invoice, or the latest attempt while it is open.
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="RUB")
    description = models.TextField(max_length=2000, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    due_date = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    # The billing run that drafted it (null: typed by hand). A later run adds to the parent's open draft.
    billing_run = models.ForeignKey(
        "BillingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A draft whose lines a billing run removed is cancelled at 0 (docs/api.md "Billing").
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(status=InvoiceStatus.CANCELLED, amount=0), name="invoice_amount_positive"
            ),
            models.CheckConstraint(condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(sent_at__gte=F("created_at")), name="invoice_sent_after_created"
            ),
            models.CheckConstraint(
                condition=Q(viewed_at__isnull=True) | Q(sent_at__isnull=True) | Q(viewed_at__gte=F("sent_at")),
                name="invoice_viewed_after_sent",
            ),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | Q(viewed_at__isnull=True) | Q(paid_at__gte=F("viewed_at")),
                name="invoice_paid_after_viewed",
            ),
        ]
        indexes = [
            models.Index(fields=["tutor", "status"], name="idx_invoice_tutor_status"),
            models.Index(fields=["parent", "status"], name="idx_invoice_parent_status"),
            models.Index(fields=["due_date", "status"], name="idx_invoice_due_status"),
            models.Index(fields=["student", "-created_at"], name="idx_invoice_student_date"),
            # The lists of a tutor and of a parent, newest first: a page is read in index order and stops at 20.
            models.Index(fields=["tutor", "-created_at", "-id"], name="idx_invoice_tutor_list"),
            models.Index(fields=["parent", "-created_at", "-id"], name="idx_invoice_parent_list"),
            # Most invoices have neither: index only the rows where the column is set.
            models.Index(fields=["payment"], name="idx_invoice_payment", condition=Q(payment__isnull=False)),
            models.Index(
                fields=["telegram_message_id"],
                name="idx_invoice_telegram",
                condition=Q(telegram_message_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice #{self.pk}: {self.amount} {self.currency} ({self.get_status_display().lower()})"


class InvoiceStatusHistory(models.Model):
    """One row per status change; `changed_by` is null when the system changed it (overdue job, payment)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="history")
    old_status = models.CharField(max_length=16, choices=InvoiceStatus.choices)
    new_status = models.CharField(max_length=16, choices=InvoiceStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = "invoice status history entry"
        verbose_name_plural = "invoice status history entries"
        indexes = [
            models.Index(fields=["invoice", "-changed_at"], name="idx_invoice_history_invoice"),
            models.Index(fields=["changed_by", "-changed_at"], name="idx_invoice_history_user"),
        ]

    def __str__(self) -> str:
        return f"Invoice #{self.invoice_id}: {self.get_old_status_display()} → {self.get_new_status_display()}"


class LineKind(models.TextChoices):
    MANUAL = "manual", "Manual"
    LESSON = "lesson", "Lesson"
    NO_SHOW = "no_show", "No-show"
    LATE_CANCELLATION = "late_cancellation", "Late cancellation"
    CREDIT = "credit", "Credit"


class InvoiceLine(models.Model):
    """One line of an invoice; the invoice's amount is the sum of its lines (services, and on PostgreSQL a deferred
    constraint trigger, migration 0009). A lesson is billed by at most one line (unique); cancelling an invoice
    releases its lessons (their lines keep the description). A credit line takes back a line of a sent invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=24, choices=LineKind.choices, default=LineKind.MANUAL)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=8, decimal_places=2, default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    lesson = models.OneToOneField(
        "scheduling.Lesson", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_line"
    )
    credits = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="credited_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"),
            models.CheckConstraint(condition=Q(kind__in=LineKind.values), name="invoice_line_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=LineKind.CREDIT, amount__lt=0, credits__isnull=False)
                | (~Q(kind=LineKind.CREDIT) & Q(credits__isnull=True)),
                name="invoice_line_credit_shape",
            ),
            models.CheckConstraint(
                condition=Q(lesson__isnull=True)
                | Q(kind__in=[LineKind.LESSON, LineKind.NO_SHOW, LineKind.LATE_CANCELLATION]),
                name="invoice_line_lesson_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class BillingRun(models.Model):
    """A billing run of a tutor over a period (dates inclusive), and what it wrote."""

    tutor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_runs")
    period_start = models.DateField()
    period_end = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lines_added = models.PositiveIntegerField(default=0)
    lines_changed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="billing_run_period_order")
        ]
        indexes = [models.Index(fields=["tutor", "-created_at"], name="idx_billing_run_tutor")]

    def __str__(self) -> str:
        return f"Billing run of {self.period_start}..{self.period_end}"


class ImmutableRow(models.Model):
    """Rates are history: a change is a new row with its own `valid_from`, never an update."""

    price_per_hour = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="RUB")
    valid_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Rates are never changed: add a new one with its own valid_from.")
        super().save(*args, **kwargs)


class LessonRate(ImmutableRow):
    """What a lesson costs the family per hour: a teacher's default for a subject, or for one student (override).
    The rate of a lesson is the one valid on its date (the latest `valid_from` on or before; the latest row wins)."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lesson_rates")
    subject = models.ForeignKey("enrollments.Subject", on_delete=models.PROTECT, related_name="lesson_rates")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lesson_rates_as_student",
    )

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_per_hour__gt=0), name="lesson_rate_price_positive"),
        ]
        indexes = [models.Index(fields=["teacher", "subject", "valid_from"], name="idx_lesson_rate_lookup")]

    def __str__(self) -> str:
        return f"{self.price_per_hour} {self.currency}/h from {self.valid_from}"


class PayRate(ImmutableRow):
    """What a teacher earns per hour (for every subject, or for one), from `valid_from`. Used by payouts."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pay_rates")
    subject = models.ForeignKey(
        "enrollments.Subject", null=True, blank=True, on_delete=models.PROTECT, related_name="pay_rates"
    )

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [models.CheckConstraint(condition=Q(price_per_hour__gt=0), name="pay_rate_price_positive")]
        indexes = [models.Index(fields=["teacher", "valid_from"], name="idx_pay_rate_lookup")]

    def __str__(self) -> str:
        return f"{self.price_per_hour} {self.currency}/h from {self.valid_from}"
