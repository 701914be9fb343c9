"""Users of role admin are staff and superusers, every other role is neither (accounts.models.RoleAdminFlag).

The data step brings existing rows in line: the demo seeder made its admins staff without any permission, so they
saw "You don't have permission to view or edit anything" in the Django admin.
"""

from django.db import migrations, models


def flags_follow_role(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(role="admin").update(is_staff=True, is_superuser=True)
    User.objects.exclude(role="admin").update(is_staff=False, is_superuser=False)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_user_email_unique_ci'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='is_staff',
            field=models.BooleanField(default=False, help_text='Signs in to the Django admin: users of role admin, and only they.', verbose_name='staff status'),
        ),
        migrations.AlterField(
            model_name='user',
            name='is_superuser',
            field=models.BooleanField(default=False, help_text='Has every permission: users of role admin, and only they.', verbose_name='superuser status'),
        ),
        migrations.RunPython(flags_follow_role, migrations.RunPython.noop),
    ]
