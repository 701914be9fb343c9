"""What invoices tell people outside the app: the parent's notice of a sent invoice (through notifications, with
Pay and Seen buttons), withdrawn if the invoice is paid or cancelled before it went out; and, once an online
payment succeeded, a "payment received" notice to the parent and to the tutor."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from invoices.models import Invoice
from notifications.services import language_of, notify, withdraw
from notifications.telegram import Button, callback_data

SEEN_ACTION = "invoice_seen"  # settings.TELEGRAM_CALLBACK_ACTIONS routes it to telegram_invoice_seen


def _dedupe_key(invoice_id: int) -> str:
    return f"invoice:{invoice_id}"


def invoice_sent_text(invoice: Invoice) -> str:
    return _("New invoice #%(id)s for %(student)s\nAmount: %(amount)s %(currency)s\nDue: %(due)s") % {
        "id": invoice.pk,
        "student": invoice.student.full_name,
        "amount": f"{invoice.amount:.2f}",
        "currency": invoice.currency,
        "due": invoice.due_date.isoformat(),
    }


def invoice_sent_buttons(invoice: Invoice) -> list[list[dict]]:
    pay_url = settings.INVOICE_PAY_URL_TEMPLATE.format(id=invoice.pk)
    return [
        [
            Button(_("Pay"), url=pay_url).as_dict(),
            Button(_("Seen"), callback_data=callback_data(SEEN_ACTION, invoice.pk)).as_dict(),
        ]
    ]


def notify_invoice_sent(invoice: Invoice) -> None:
    """Tell the parent (after the send committed), in their language; the message id is kept on the invoice once
    sent."""
    with translation.override(language_of(invoice.parent)):
        text, buttons = invoice_sent_text(invoice), invoice_sent_buttons(invoice)
    notify(
        invoice.parent,
        event="invoice_sent",
        text=text,
        buttons=buttons,
        dedupe_key=_dedupe_key(invoice.pk),
        receipts={"telegram": ["invoices.Invoice", invoice.pk, "telegram_message_id"]},
    )


def withdraw_invoice_notice(invoice_id: int) -> None:
    """The invoice was paid or cancelled (committed): its notice, if still queued, is not sent."""
    withdraw(dedupe_key=_dedupe_key(invoice_id))


def payment_received_text(invoice: Invoice, recipient: User) -> str:
    """The notice of a paid invoice as `recipient` (its parent or its tutor) reads it, in the active language."""
    values = {
        "id": invoice.pk,
        "student": invoice.student.full_name,
        "amount": f"{invoice.amount:.2f}",
        "currency": invoice.currency,
    }
    if recipient.pk == invoice.parent_id:
        return _("Payment received for invoice #%(id)s (%(student)s): %(amount)s %(currency)s. Thank you!") % values
    return _("Invoice #%(id)s for %(student)s has been paid: %(amount)s %(currency)s.") % values


def notify_payment_received(invoice: Invoice) -> None:
    """Tell the parent and the tutor that the invoice is paid (after the payment committed), each in their
    language; at most once per invoice, recipient and channel, however often this runs."""
    for recipient in (invoice.parent, invoice.tutor):
        if not recipient.is_active:
            continue
        with translation.override(language_of(recipient)):
            text = payment_received_text(invoice, recipient)
        notify(
            recipient,
            event="payment_received",
            text=text,
            dedupe_key=f"payment-received:{invoice.pk}:{recipient.pk}",
        )
