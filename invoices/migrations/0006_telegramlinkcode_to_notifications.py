# TelegramLinkCode now belongs to the notifications app (notifications 0001 took it over, rows and table kept):
# it leaves this app's state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0005_enrollment_moved_to_enrollments'),
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='TelegramLinkCode')],
            database_operations=[],
        ),
    ]
