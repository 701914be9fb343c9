# The tables taken over from materials get this app's names (enrollments_subject, enrollments_enrollment), rows,
# indexes and constraints kept; their content types move too, so permissions granted on them and admin log entries
# stay attached.

from django.db import migrations

MODELS = ('subject', 'enrollment')


def content_types_to(app_label, from_label):
    def move(apps, schema_editor):
        ContentType = apps.get_model('contenttypes', 'ContentType')
        db = schema_editor.connection.alias
        for model in MODELS:
            old = ContentType.objects.using(db).filter(app_label=from_label, model=model)
            if not old.exists():
                continue  # a new database: post_migrate creates them under the new label
            # A row created under the new label meanwhile (post_migrate of a partial migrate) only holds default
            # permissions: the old row, with whatever was granted on it, wins.
            ContentType.objects.using(db).filter(app_label=app_label, model=model).delete()
            old.update(app_label=app_label)

    return move


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('enrollments', '0001_initial'),
        ('materials', '0004_subject_enrollment_moved_to_enrollments'),
    ]

    operations = [
        migrations.AlterModelTable(name='subject', table=None),
        migrations.AlterModelTable(name='enrollment', table=None),
        migrations.RunPython(
            content_types_to('enrollments', 'materials'), content_types_to('materials', 'enrollments'), elidable=False
        ),
    ]
