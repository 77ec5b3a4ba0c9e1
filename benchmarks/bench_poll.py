"""Benchmark of the poll path (never asserts on timing): a conditional GET /api/v2/jobs/{id} that answers
304 against a bare authenticated DRF endpoint (/api/v2/me), in requests per second.

    .venv/bin/python benchmarks/bench_poll.py [--clients 50] [--seconds 10] [--rounds 3] [--workers 2]

Starts gunicorn on 127.0.0.1 (a free port) with the project's settings and the environment's
DATABASE_URL / REDIS_URL (default: a throwaway SQLite database under var/bench-poll/), seeds one
user with one job per client (five scenes with images, so building the document would cost what it
costs in production), then drives a bounded load: `--clients` keep-alive connections spread over a
few load processes, each request waiting for its answer, for `--seconds` per measurement. The two
endpoints are measured in turn (A B A B ...) and the ratio me/poll is taken round by round, so a
machine whose speed drifts still gives a fair ratio. Goal: poll 304 costs <= 1.1 x /me (ratio >= 0.91).

The poll throttle (30/min per user and job) is raised for the run so every answer is a 304: the
throttle's own check still runs on every request, as in production.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / "var" / "bench-poll"
LOAD_PROCESSES = 5


def configure() -> None:
    shutil.rmtree(BENCH_DIR, ignore_errors=True)
    BENCH_DIR.mkdir(parents=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}")
    os.environ.update({
        "VIDEO_STORAGE_PATH": str(BENCH_DIR / "media"),
        "PROMETHEUS_MULTIPROC_DIR": str(BENCH_DIR / "prometheus"),
        "THROTTLE_POLL": "100000000/min",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
    })
    (BENCH_DIR / "prometheus").mkdir()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def seed(clients: int) -> tuple[str, list[int]]:
    from rest_framework_simplejwt.tokens import AccessToken

    from tests.factories import (
        CampaignFactory,
        ClientFactory,
        MembershipFactory,
        SceneFactory,
        UserFactory,
        VideoJobFactory,
    )

    user, client = UserFactory(), ClientFactory()
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    job_ids = []
    for _ in range(clients):
        job = VideoJobFactory(campaign=campaign, created_by=user, status="storyboard_complete", percentage=50,
                              stage="storyboard_complete", duration=25)
        for number in range(1, 6):
            SceneFactory(job=job, number=number, start_seconds=(number - 1) * 5, status="completed",
                         image=f"storyboards/{job.pk}/scene_{number}.png")
        job_ids.append(job.pk)
    return str(AccessToken.for_user(user)), job_ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    log = open(BENCH_DIR / "gunicorn.log", "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--threads", str(threads), "--keep-alive", "30"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_until_up(port: int, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v2/me", headers={"Authorization": f"Bearer {token}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer; see {BENCH_DIR / 'gunicorn.log'}")


def _load(port: int, requests: list[tuple[str, dict]], seconds: float, start_at: float, out) -> None:
    """One load process: a keep-alive connection per request spec, each sending as soon as it has its answer."""
    import threading

    counts, statuses = [0] * len(requests), set()

    def client(i: int, path: str, headers: dict) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while time.time() < end:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses.add(response.status)
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i, path, headers)) for i, (path, headers) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((sum(counts), sorted(statuses)))


def measure(port: int, requests: list[tuple[str, dict]], seconds: float) -> tuple[float, list[int]]:
    """Requests per second over `seconds` with one connection per entry of `requests`."""
    queue = multiprocessing.Queue()
    start_at = time.time() + 1.0
    shares = [requests[i::LOAD_PROCESSES] for i in range(LOAD_PROCESSES)]
    procs = [multiprocessing.Process(target=_load, args=(port, share, seconds, start_at, queue))
             for share in shares if share]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    return sum(count for count, _ in results) / seconds, sorted({s for _, codes in results for s in codes})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent keep-alive clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    args = parser.parse_args()

    configure()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    token, job_ids = seed(args.clients)
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        wait_until_up(port, token)
        auth = {"Authorization": f"Bearer {token}"}
        etags = {}
        for job_id in job_ids:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", f"/api/v2/jobs/{job_id}", headers=auth)
            response = conn.getresponse()
            response.read()
            etags[job_id] = response.getheader("ETag")
        me = [("/api/v2/me", auth)] * args.clients
        poll = [(f"/api/v2/jobs/{job_id}", {**auth, "If-None-Match": etags[job_id]}) for job_id in job_ids]
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        print(f"gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1, {args.clients} clients, "
              f"{args.seconds:.0f}s per measurement, {database}, "
              f"{'Redis' if settings.REDIS_URL else 'database'} rate-limit store, load {os.getloadavg()[0]:.1f}")
        measure(port, me[:5], 2.0)  # warm-up: imports, connections
        ratios = []
        for round_number in range(1, args.rounds + 1):
            me_rps, me_codes = measure(port, me, args.seconds)
            poll_rps, poll_codes = measure(port, poll, args.seconds)
            ratios.append(me_rps / poll_rps)
            print(f"round {round_number}: /me {me_rps:.0f} req/s {me_codes}, conditional poll {poll_rps:.0f} req/s "
                  f"{poll_codes}: poll costs {me_rps / poll_rps:.2f} x /me")
        print(f"poll 304 path costs {statistics.median(ratios):.2f} x a bare authenticated endpoint "
              f"(median of {len(ratios)} rounds; goal <= 1.1)")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
