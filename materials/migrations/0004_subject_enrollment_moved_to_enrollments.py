# Subject and Enrollment moved to the enrollments app (rows kept): Material's foreign key follows in Django's state,
# and materials lets go of both models in the state only; the tables stay (enrollments/0002 renames them).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('materials', '0003_verbose_names'),
        ('enrollments', '0001_initial'),
        # Every foreign key to these models points at enrollments' before materials deletes them from its state.
        ('assignments', '0003_subject_moved_to_enrollments'),
        ('chat', '0002_subject_moved_to_enrollments'),
        ('invoices', '0005_enrollment_moved_to_enrollments'),
        ('scheduling', '0003_subject_moved_to_enrollments'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='material',
                    name='subject',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='materials', to='enrollments.subject'),
                ),
                migrations.DeleteModel(
                    name='Enrollment',
                ),
                migrations.DeleteModel(
                    name='Subject',
                ),
            ],
            database_operations=[],
        ),
    ]
