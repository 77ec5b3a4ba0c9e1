"""Empties the Prometheus multiprocess directory before this host's web server and workers start.

Run it once per host at deploy/start, before gunicorn and qcluster, never while they run
(their open metric files would be unlinked and their samples lost until they restart).
`make demo` runs it when neither demo process is running.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from videogen.observability import multiprocess_dir, reset_multiprocess_dir


class Command(BaseCommand):
    help = "Empty PROMETHEUS_MULTIPROC_DIR (run before starting web and workers on this host)."

    def handle(self, *args, **options) -> None:
        removed = reset_multiprocess_dir()
        self.stdout.write(f"removed {removed} metric file(s) from {multiprocess_dir()}")
