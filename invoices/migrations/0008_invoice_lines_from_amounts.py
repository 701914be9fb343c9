"""Each invoice written before lines existed gets one manual line carrying its amount, unchanged."""

from django.db import migrations


def one_line_per_invoice(apps, schema_editor):
    Invoice = apps.get_model("invoices", "Invoice")
    InvoiceLine = apps.get_model("invoices", "InvoiceLine")
    batch = []
    for invoice in Invoice.objects.filter(lines__isnull=True).only("pk", "amount", "description").iterator(2000):
        description = (invoice.description or "").strip()[:500] or f"Invoice #{invoice.pk}"
        batch.append(
            InvoiceLine(
                invoice_id=invoice.pk,
                kind="manual",
                description=description,
                quantity=1,
                unit_price=invoice.amount,
                amount=invoice.amount,
            )
        )
        if len(batch) >= 2000:
            InvoiceLine.objects.bulk_create(batch)
            batch = []
    InvoiceLine.objects.bulk_create(batch)


def remove_lines(apps, schema_editor):
    apps.get_model("invoices", "InvoiceLine").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("invoices", "0007_lines_rates_billing")]

    operations = [migrations.RunPython(one_line_per_invoice, remove_lines, elidable=False)]
