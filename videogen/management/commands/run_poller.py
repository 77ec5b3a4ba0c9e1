"""`manage.py run_poller`: the provider poller as a process of its own.

Every `qcluster` already runs it (one holds the lease); use this with POLLER_IN_QCLUSTER=false, or as
an extra standby. Stops on SIGTERM/SIGINT, giving up the lease so a standby takes over at once.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Runs the provider poller loop (one active per deployment, the others stand by)."

    def handle(self, *args, **options):
        from django.conf import settings

        from videogen.pipeline.concurrency import use_persistent_connections
        from videogen.pipeline.poller import Poller

        use_persistent_connections(settings.WORKER_DB_CONN_MAX_AGE)

        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        Poller().run(should_stop=lambda: stop["now"])
