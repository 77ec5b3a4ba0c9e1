"""`manage.py qcluster`: django-q2's cluster, plus the provider poller in the cluster's main process.

django-q2's own command starts the cluster (a sentinel process that forks the workers) and then
only waits. Here the main process spends that wait running the poller loop (pipeline/poller.py):
every qcluster is a poller candidate, one holds the lease, so a deployment needs no extra process
and a SIGKILLed poller is replaced by any other (or the restarted) qcluster. The loop ends when the
cluster stops (SIGTERM/SIGINT stop the sentinel through django-q2's own handler).
POLLER_IN_QCLUSTER=false runs the cluster alone (then run `manage.py run_poller` somewhere).
"""

from __future__ import annotations

import time

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand


class Command(DjangoQCommand):
    help = "Starts a django-q2 cluster and, in its main process, the provider poller."

    def handle(self, *args, **options):
        from videogen.pipeline.concurrency import use_persistent_connections

        use_persistent_connections(settings.WORKER_DB_CONN_MAX_AGE)  # before the workers fork
        if options.get("run_once") or not settings.POLLER_IN_QCLUSTER:
            return super().handle(*args, **options)
        from videogen.pipeline.poller import Poller

        settings.SECRET_KEY  # noqa: B018 - django-q2 signs tasks with it: fail early without one
        cluster = Cluster()
        cluster.start()

        def stopped() -> bool:
            return cluster.sentinel is None or not cluster.sentinel.is_alive()

        Poller().run(should_stop=stopped)
        while not stopped():  # the poller returned early (it never should): keep the workers
            time.sleep(0.5)
