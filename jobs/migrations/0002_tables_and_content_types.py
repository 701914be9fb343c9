# The tables taken over from config get the jobs app's names (config_* -> jobs_*), and their content types move to
# the `jobs` app label, so the permissions granted on them (auth_permission rows point at the content type) are kept.

from django.db import migrations

MOVED = ("periodicrun", "jobeffect", "workerheartbeat")


def _move_content_types(apps, schema_editor, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        if not rows.filter(app_label=source, model=model).exists():
            continue  # a fresh database: post_migrate makes the content types afterwards
        rows.filter(app_label=target, model=model).delete()  # an empty twin made by a post_migrate in between
        rows.filter(app_label=source, model=model).update(app_label=target)
    content_type.objects.clear_cache()


def forwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "config", "jobs")


def backwards(apps, schema_editor):
    _move_content_types(apps, schema_editor, "jobs", "config")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("config", "0004_models_moved_to_jobs"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="periodicrun", table=None),
        migrations.AlterModelTable(name="jobeffect", table=None),
        migrations.AlterModelTable(name="workerheartbeat", table=None),
        migrations.RunPython(forwards, backwards),
    ]
