"""`manage.py cleanup_stalled_jobs [--dry-run]`: the stuck-job rules, by hand.

`generating_*` jobs untouched for STALL_AFTER_MINUTES (15) become `stalled`; jobs stalled for
over STALLED_FAIL_AFTER_MINUTES (60) become `failed`. The same function runs hourly from the
django-q2 schedule. `--dry-run` only lists what it would mark.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from videogen.pipeline.stalls import cleanup_stalled_jobs


class Command(BaseCommand):
    help = "Marks jobs with no progress as stalled, and long-stalled jobs as failed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list what would be marked; change nothing")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        marked = cleanup_stalled_jobs(dry_run=dry_run)
        verb = "would mark" if dry_run else "marked"
        self.stdout.write(
            f"{verb} {len(marked['stalled'])} job(s) stalled "
            f"(no progress for {settings.STALL_AFTER_MINUTES} min): {_ids(marked['stalled'])}"
        )
        self.stdout.write(
            f"{verb} {len(marked['failed'])} job(s) failed "
            f"(stalled over {settings.STALLED_FAIL_AFTER_MINUTES} min): {_ids(marked['failed'])}"
        )


def _ids(ids: list[int]) -> str:
    return ", ".join(str(job_id) for job_id in ids) or "none"
