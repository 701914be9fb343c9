"""Writes of the invoices app (one module per concern; everything is importable from here)."""

from invoices.services.lifecycle import (
    TRANSITIONS,
    apply_transition,
    can_transition,
    invoice_cancel,
    invoice_create,
    invoice_mark_overdue,
    invoice_mark_viewed,
    invoice_mark_viewed_on_read,
    invoice_send,
    invoice_set_telegram_message,
    invoice_update,
    invoices_mark_overdue,
)
from invoices.services.paying import PaymentCheckDeferred, invoice_pay, payment_apply_notification
from invoices.services.telegram_link import telegram_invoice_seen, telegram_link_bind, telegram_link_create

__all__ = [
    "TRANSITIONS",
    "PaymentCheckDeferred",
    "apply_transition",
    "can_transition",
    "invoice_cancel",
    "invoice_create",
    "invoice_mark_overdue",
    "invoice_mark_viewed",
    "invoice_mark_viewed_on_read",
    "invoice_pay",
    "invoice_send",
    "invoice_set_telegram_message",
    "invoice_update",
    "invoices_mark_overdue",
    "payment_apply_notification",
    "telegram_invoice_seen",
    "telegram_link_bind",
    "telegram_link_create",
]
