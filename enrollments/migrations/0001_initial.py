# Subject and Enrollment move here from materials, rows kept: this migration only takes them over in Django's
# state, on the tables materials created (materials_subject, materials_enrollment); 0002 renames the tables.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The tables exist (created by materials) before this app takes them over.
        ('materials', '0003_verbose_names'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Subject',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, unique=True)),
                        ('description', models.TextField(blank=True, max_length=5000)),
                    ],
                    options={
                        'ordering': ['name'],
                        'db_table': 'materials_subject',
                    },
                ),
                migrations.CreateModel(
                    name='Enrollment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('is_active', models.BooleanField(default=True)),
                        ('started_at', models.DateField(default=django.utils.timezone.localdate)),
                        ('ended_at', models.DateField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('student', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to=settings.AUTH_USER_MODEL)),
                        ('teacher', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='teaching_enrollments', to=settings.AUTH_USER_MODEL)),
                        ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='enrollments', to='enrollments.subject')),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                        'db_table': 'materials_enrollment',
                        'indexes': [models.Index(fields=['teacher', 'is_active'], name='enrollment_teacher_active'), models.Index(fields=['student', 'is_active'], name='enrollment_student_active')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('student', 'subject'), name='enrollment_one_active_per_student_subject'), models.CheckConstraint(condition=models.Q(('ended_at__isnull', True), ('ended_at__gte', models.F('started_at')), _connector='OR'), name='enrollment_ends_after_start')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
