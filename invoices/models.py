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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
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
