# TelegramLinkCode now belongs to the notifications app (notifications 0001 took it over, rows and table kept):
# it leaves this app's state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0004_payment_provider_checked_at'),
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='TelegramLinkCode')],
            database_operations=[],
        ),
    ]
