# Every FileField stores through `files.storage.upload_to`: the same generated names under the same prefix, so no
# row or stored file changes. State only (SQLite would otherwise rebuild the table for a Python-side attribute).

import files.storage
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0002_subject_moved_to_enrollments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="attachment",
                    field=models.FileField(blank=True, max_length=200, upload_to=files.storage.GeneratedName("chat")),
                ),
            ],
        ),
    ]
