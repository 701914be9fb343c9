"""On PostgreSQL, the database itself holds an invoice's amount to the sum of its lines.

A constraint trigger, deferred to the commit (a service writes the invoice and its lines in one transaction, in any
order): after any insert, update or delete of a line, and any insert or update of an invoice's amount, the
transaction commits only if `invoice.amount = sum(line.amount)` for every invoice it touched; otherwise the commit
fails with SQLSTATE 23514 (check_violation, Django's IntegrityError). A CHECK constraint cannot see other rows,
hence the trigger. On SQLite the services keep the sum (invoices.services.lines._recompute) and the tests check it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION invoices_amount_equals_lines() RETURNS trigger AS $$
DECLARE
    target bigint;
    total numeric;
    stored numeric;
BEGIN
    IF TG_TABLE_NAME = 'invoices_invoice' THEN
        target := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.invoice_id;
    ELSE
        target := NEW.invoice_id;
    END IF;
    SELECT amount INTO stored FROM invoices_invoice WHERE id = target;
    IF NOT FOUND THEN
        RETURN NULL;  -- the invoice itself was deleted (its lines cascade)
    END IF;
    SELECT COALESCE(SUM(amount), 0) INTO total FROM invoices_invoiceline WHERE invoice_id = target;
    IF total <> stored THEN
        RAISE EXCEPTION 'invoice % amount % differs from the sum of its lines %', target, stored, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_amount_equals_lines';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER invoice_amount_equals_lines
    AFTER INSERT OR UPDATE OR DELETE ON invoices_invoiceline
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION invoices_amount_equals_lines();

CREATE CONSTRAINT TRIGGER invoice_amount_equals_lines_invoice
    AFTER INSERT OR UPDATE OF amount ON invoices_invoice
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION invoices_amount_equals_lines();
"""

DROP = """
DROP TRIGGER IF EXISTS invoice_amount_equals_lines ON invoices_invoiceline;
DROP TRIGGER IF EXISTS invoice_amount_equals_lines_invoice ON invoices_invoice;
DROP FUNCTION IF EXISTS invoices_amount_equals_lines();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("invoices", "0008_invoice_lines_from_amounts")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
