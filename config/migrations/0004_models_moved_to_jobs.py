# PeriodicRun, WorkerHeartbeat and JobEffect now belong to the `jobs` app (jobs/migrations/0001_initial.py took them
# over on their tables): config drops them from its state only, so no row is lost. config has no models from here on.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("config", "0003_worker_lease"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PeriodicRun"),
                migrations.DeleteModel(name="JobEffect"),
                migrations.DeleteModel(name="WorkerHeartbeat"),
            ],
            database_operations=[],
        ),
    ]
