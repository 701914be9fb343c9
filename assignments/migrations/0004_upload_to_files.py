# Every FileField stores through `files.storage.upload_to`: the same generated names under the same prefix, so no
# row or stored file changes. State only (SQLite would otherwise rebuild the tables for a Python-side attribute).

import files.storage
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assignments", "0003_subject_moved_to_enrollments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="assignmentattachment",
                    name="file",
                    field=models.FileField(max_length=255, upload_to=files.storage.GeneratedName("assignments")),
                ),
                migrations.AlterField(
                    model_name="submissionfile",
                    name="file",
                    field=models.FileField(max_length=255, upload_to=files.storage.GeneratedName("assignments")),
                ),
            ],
        ),
    ]
