# The models of background jobs move from `config` (config/migrations 0001-0003) to `jobs`, rows kept: this migration
# takes them over in Django's state only, on their old tables; config 0004 drops them from config's state, and
# jobs 0002 renames the tables to jobs_* and moves their content types (and so their permissions).

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("config", "0003_worker_lease"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PeriodicRun",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100)),
                        ("slot", models.BigIntegerField(help_text="Seconds since the epoch at the start of the slot.")),
                        ("enqueued_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "verbose_name": "periodic job run",
                        "db_table": "config_periodicrun",
                        "constraints": [
                            models.UniqueConstraint(fields=("name", "slot"), name="periodic_run_once_per_slot")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="JobEffect",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=200, unique=True)),
                        ("recorded_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                    ],
                    options={"verbose_name": "job effect", "db_table": "config_jobeffect"},
                ),
                migrations.CreateModel(
                    name="WorkerHeartbeat",
                    fields=[
                        ("worker_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("beat_at", models.DateTimeField(db_index=True)),
                        ("job_id", models.UUIDField(blank=True, db_index=True, null=True)),
                    ],
                    options={"verbose_name": "worker heartbeat", "db_table": "config_workerheartbeat"},
                ),
            ],
            database_operations=[],
        ),
    ]
