"""Invoice lines: the amount of an invoice is the sum of its lines, kept here in the same transaction as every line
write (on PostgreSQL a deferred constraint trigger refuses a commit that breaks it: migration 0009).

Manual lines (materials, discounts as negative lines) are written by the invoice's tutor or an admin on drafts only;
lesson and credit lines belong to the billing run (services/billing.py). Limits: an invoice's total stays above
zero, and its negative manual lines take off at most BILLING_MAX_DISCOUNT_PERCENT of its other lines.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from config.exceptions import NotFound
from core.updating import model_update
from invoices.errors import InvoiceError, InvoiceErrorCode
from invoices.locks import invoice_for_update
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, LineKind

CENT = Decimal("0.01")


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def recompute(invoice: Invoice) -> Invoice:
    """Set the (locked) invoice's amount to the sum of its lines."""
    total = invoice.lines.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    if invoice.amount != total:
        model_update(invoice, {"amount": total}, fields=("amount",))
    return invoice


def check_limits(invoice: Invoice) -> None:
    """The total stays above zero; discounts (negative manual lines) within BILLING_MAX_DISCOUNT_PERCENT."""
    lines = list(invoice.lines.values_list("kind", "amount"))
    total = sum((amount for _, amount in lines), Decimal(0))
    if total <= 0:
        raise InvoiceError(
            "An invoice's total must stay above zero.",
            InvoiceErrorCode.TOTAL_NOT_POSITIVE,
            fields={"amount": ["The invoice's total must stay above zero."]},
        )
    discount = -sum((a for kind, a in lines if kind == LineKind.MANUAL and a < 0), Decimal(0))
    others = sum((a for kind, a in lines if not (kind == LineKind.MANUAL and a < 0)), Decimal(0))
    if discount > others * settings.BILLING_MAX_DISCOUNT_PERCENT / 100:
        raise InvoiceError(
            f"Discounts may take off at most {settings.BILLING_MAX_DISCOUNT_PERCENT}% of the invoice.",
            InvoiceErrorCode.DISCOUNT_TOO_LARGE,
            fields={"unit_price": ["The discount is too large."]},
        )


def _draft_of(invoice_id: int, by: User) -> Invoice:
    # Who may: the same rule as editing the invoice (lifecycle.check_can_manage_invoice), checked by the caller.
    invoice = invoice_for_update(invoice_id)
    if not (by.is_admin or by.pk == invoice.tutor_id):
        raise InvoiceError(
            "Only the invoice's tutor or an admin may do this.", InvoiceErrorCode.NOT_ALLOWED, status=403
        )
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceError("Only drafts can be edited.", InvoiceErrorCode.NOT_EDITABLE, status=409)
    return invoice


def _manual_line(invoice: Invoice, line_id: int) -> InvoiceLine:
    line = invoice.lines.filter(pk=line_id).first()
    if line is None:
        raise NotFound()
    if line.kind != LineKind.MANUAL:
        raise InvoiceError(
            "Lesson and credit lines follow the lessons: run billing again instead.",
            InvoiceErrorCode.LINE_NOT_EDITABLE,
            status=409,
        )
    return line


@transaction.atomic
def invoice_line_add(
    *, invoice_id: int, by: User, description: str, unit_price: Decimal, quantity: Decimal = Decimal(1)
) -> InvoiceLine:
    """A manual line on a draft (a negative unit price is a discount)."""
    invoice = _draft_of(invoice_id, by)
    line = InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.MANUAL,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        amount=line_amount(quantity, unit_price),
    )
    check_limits(invoice)  # before the amount is written: its CHECK would answer first
    recompute(invoice)
    return line


LINE_FIELDS = ("description", "quantity", "unit_price", "amount")


@transaction.atomic
def invoice_line_update(*, invoice_id: int, line_id: int, by: User, data: dict) -> InvoiceLine:
    invoice = _draft_of(invoice_id, by)
    line = _manual_line(invoice, line_id)
    changes = {key: value for key, value in data.items() if key in ("description", "quantity", "unit_price")}
    changes["amount"] = line_amount(changes.get("quantity", line.quantity), changes.get("unit_price", line.unit_price))
    model_update(line, changes, fields=LINE_FIELDS)
    check_limits(invoice)  # before the amount is written: its CHECK would answer first
    recompute(invoice)
    return line


@transaction.atomic
def invoice_line_remove(*, invoice_id: int, line_id: int, by: User) -> Invoice:
    invoice = _draft_of(invoice_id, by)
    _manual_line(invoice, line_id).delete()
    check_limits(invoice)  # before the amount is written: its CHECK would answer first
    recompute(invoice)
    return invoice
