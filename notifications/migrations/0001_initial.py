# TelegramLinkCode moves here from invoices with its rows: this migration only takes the model into this app's
# state, on the table it already has (invoices_telegramlinkcode); 0002 renames the table and moves the content type.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('invoices', '0004_payment_provider_checked_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='TelegramLinkCode',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code_hash', models.CharField(max_length=64, unique=True)),
                        ('expires_at', models.DateTimeField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'Telegram link code',
                        'db_table': 'invoices_telegramlinkcode',
                        'indexes': [models.Index(fields=['expires_at'], name='idx_telegram_code_expiry')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
