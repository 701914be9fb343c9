# The moved TelegramLinkCode takes this app's table name (invoices_telegramlinkcode → notifications_telegramlinkcode,
# rows kept), and its content type follows it, so that the permissions granted on it are kept.

from django.db import migrations


def _move_content_type(apps, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = ContentType.objects.db_manager()
    old = db.filter(app_label=old_label, model='telegramlinkcode').first()
    if old is None:
        return
    # A content type already created under the new label (by a migrate run since) holds no permission anyone was
    # granted before the move: the old one, with its grants, takes its place.
    db.filter(app_label=new_label, model='telegramlinkcode').delete()
    old.app_label = new_label
    old.save(update_fields=['app_label'])


def forwards(apps, schema_editor):
    _move_content_type(apps, 'invoices', 'notifications')


def backwards(apps, schema_editor):
    _move_content_type(apps, 'notifications', 'invoices')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('invoices', '0006_telegramlinkcode_to_notifications'),
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='telegramlinkcode', table=None),
        migrations.RunPython(forwards, backwards),
    ]
