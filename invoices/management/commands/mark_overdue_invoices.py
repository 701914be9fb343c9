"""`manage.py mark_overdue_invoices`: run the daily overdue sweep now (idempotent)."""

from django.core.management.base import BaseCommand

from invoices.services import invoices_mark_overdue


class Command(BaseCommand):
    help = "Move sent/viewed invoices past their due date to overdue (with history by the system)."

    def handle(self, *args, **options):
        moved = invoices_mark_overdue()
        self.stdout.write(f"{moved} invoice(s) marked overdue.")
