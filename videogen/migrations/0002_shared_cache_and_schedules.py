"""Creates the shared database cache table (embedded config) and the ops schedules, idempotently."""

from django.core.management import call_command
from django.db import migrations

SCHEDULES = [
    # name, func, schedule_type, minutes
    ("cleanup_stalled_jobs", "videogen.pipeline.tasks.cleanup_stalled_jobs_task", "H", None),
    ("requeue_expired_jobs", "videogen.pipeline.tasks.requeue_expired_jobs_task", "I", 1),
]


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes in SCHEDULES:
        # Schedule.name is not unique: update_or_create keeps this safe to run twice.
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1},
        )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("videogen", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
        migrations.RunPython(create_schedules, remove_schedules),
    ]
