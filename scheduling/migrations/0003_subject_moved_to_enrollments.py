# Subject and Enrollment moved from materials to enrollments (rows kept): the foreign key now points at
# enrollments' model in Django's state only; the database column and constraint are unchanged.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0002_lesson_no_overlap_postgresql'),
        ('enrollments', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='lesson',
                    name='subject',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lessons', to='enrollments.subject'),
                ),
            ],
            database_operations=[],
        ),
    ]
