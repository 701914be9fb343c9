# Subject and Enrollment moved from materials to enrollments (rows kept): the foreign key now points at
# enrollments' model in Django's state only; the database column and constraint are unchanged.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoices', '0004_payment_provider_checked_at'),
        ('enrollments', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='invoice',
                    name='enrollment',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='invoices', to='enrollments.enrollment'),
                ),
            ],
            database_operations=[],
        ),
    ]
