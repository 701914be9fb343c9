"""What invoices tell people outside the app: the parent's notice of a sent invoice (through notifications, with
Pay and Seen buttons), withdrawn if the invoice is paid or cancelled before it went out."""

from django.conf import settings

from invoices.models import Invoice
from notifications.services import notify, withdraw
from notifications.telegram import Button, callback_data

SEEN_ACTION = "invoice_seen"  # settings.TELEGRAM_CALLBACK_ACTIONS routes it to telegram_invoice_seen


def _dedupe_key(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


def invoice_sent_text(invoice: Invoice) -> str:
    return (
        f"New invoice #{invoice.pk} for {invoice.student.full_name}\n"
        f"Amount: {invoice.amount:.2f} {invoice.currency}\nDue: {invoice.due_date.isoformat()}"
    )


def invoice_sent_buttons(invoice: Invoice) -> list[list[dict]]:
    pay_url = settings.INVOICE_PAY_URL_TEMPLATE.format(id=invoice.pk)
    return [
        [
            Button("Pay", url=pay_url).as_dict(),
            Button("Seen", callback_data=callback_data(SEEN_ACTION, invoice.pk)).as_dict(),
        ]
    ]


def notify_invoice_sent(invoice: Invoice) -> None:
    """Tell the parent (after the send committed); the message id is kept on the invoice once sent."""
    notify(
        invoice.parent,
        event="invoice_sent",
        text=invoice_sent_text(invoice),
        buttons=invoice_sent_buttons(invoice),
        dedupe_key=_dedupe_key(invoice.pk),
        receipts={"telegram": ["invoices.Invoice", invoice.pk, "telegram_message_id"]},
    )


def withdraw_invoice_notice(invoice_id: int) -> None:
    """The invoice was paid or cancelled (committed): its notice, if still queued, is not sent."""
    withdraw(dedupe_key=_dedupe_key(invoice_id))
