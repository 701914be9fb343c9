"""Writes of the invoices app (one module per concern; everything is importable from here)."""

from invoices.services.lifecycle import (
    TRANSITIONS,
    apply_transition,
    can_transition,
    check_can_manage_invoice,
    invoice_cancel,
    invoice_create,
    invoice_mark_overdue,
    invoice_mark_viewed,
    invoice_mark_viewed_on_read,
    invoice_on_read,
    invoice_send,
    invoice_update,
    invoices_mark_overdue,
    invoices_on_read,
    telegram_invoice_seen,
)
from invoices.services.paying import PaymentCheckDeferred, invoice_pay, payment_apply_notification

__all__ = [
    "TRANSITIONS",
    "PaymentCheckDeferred",
    "apply_transition",
    "can_transition",
    "check_can_manage_invoice",
    "invoice_cancel",
    "invoice_create",
    "invoice_mark_overdue",
    "invoice_mark_viewed",
    "invoice_mark_viewed_on_read",
    "invoice_on_read",
    "invoice_pay",
    "invoice_send",
    "invoice_update",
    "invoices_mark_overdue",
    "invoices_on_read",
    "payment_apply_notification",
    "telegram_invoice_seen",
]
