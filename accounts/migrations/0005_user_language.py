"""User.language: the language of messages to the user ("" follows Accept-Language / LANGUAGE_CODE).

Added with one ALTER TABLE ... ADD COLUMN on both databases. Django's AddField of a NOT NULL column rebuilds the
table on SQLite (create, copy, drop, rename), which the triggers of 0002 (they name accounts_user) refuse; SQLite
adds a NOT NULL column with a constant default in place. On PostgreSQL the default is dropped afterwards, as
Django's own AddField does (the application always writes the value).
"""

from django.db import migrations, models


def add_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE accounts_user ADD COLUMN language varchar(8) NOT NULL DEFAULT ''")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE accounts_user ALTER COLUMN language DROP DEFAULT")


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE accounts_user DROP COLUMN language")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_admin_role_flags'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='user',
                    name='language',
                    field=models.CharField(blank=True, choices=[('en', 'English'), ('ru', 'Русский')], default='', max_length=8),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
    ]
