"""Benchmark of GET /api/v2/analytics on 100,000 jobs (prints figures; never asserts on timing).

    .venv/bin/python benchmarks/bench_analytics.py [--jobs 100000] [--runs 7] [--reseed]

Seeds a scratch database with `--jobs` jobs spread over the last year (batched bulk inserts, in realistic
proportions: about five scenes per job, one to three variations for the rendered ones, a ledger
row per paid image and clip, the status timeline with refines), 80 % of them for one big client
of 20 campaigns and the rest for four smaller clients. Then, for the big client, it times:

1. the selector (`videogen.analytics.client_analytics`) in-process: the default 30 days, a whole
   year (366 days, the longest window) and 30 days of one campaign; query count included;
2. the HTTP call through gunicorn (one sync worker) with a JWT, the same windows.

Databases: if DATABASE_URL points at PostgreSQL, first a scratch database beside it
(`<name>_bench_analytics`, created if missing); then always an SQLite file (var/bench/analytics.sqlite3).
A scratch database that already holds `--jobs` jobs is reused unless `--reseed`. Both are ANALYZEd
after seeding, as a live database would be. Wall times depend on what else the machine runs: the
load average is printed with them, and the selector's CPU time beside its wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / "var" / "bench"
SQLITE_PATH = BENCH_DIR / "analytics.sqlite3"
BIG_CLIENT = "Bench big client"
BATCH_JOBS = 2000


# --- Parent: one child process per database ---------------------------------------------------------


def scratch_postgres_url(url: str) -> str:
    """`postgres://.../videogen_x` -> `postgres://.../videogen_x_bench_analytics`, created if missing."""
    import psycopg

    parts = urlparse(url)
    name = f"{parts.path.lstrip('/') or 'videogen'}_bench_analytics"
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reseed", action="store_true", help="seed again even if the scratch database is full")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child(args)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    targets = [("SQLite", f"sqlite:///{SQLITE_PATH}")]
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        targets.insert(0, ("PostgreSQL", scratch_postgres_url(configured)))  # the production database first
    else:
        print("(DATABASE_URL is not PostgreSQL: SQLite only)")
    for label, url in targets:
        print(f"\n== {label}: {args.jobs:,} jobs ==", flush=True)
        command = [sys.executable, __file__, "--child", url, "--jobs", str(args.jobs), "--runs", str(args.runs)]
        subprocess.run(command + (["--reseed"] if args.reseed else []), check=True, cwd=ROOT)


# --- Child: seed, then time --------------------------------------------------------------------------


def run_child(args: argparse.Namespace) -> None:
    os.environ.update({
        "DATABASE_URL": args.child, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(BENCH_DIR / "prometheus"), "THROTTLE_ANALYTICS": "100000/min",
    })
    os.environ.pop("REDIS_URL", None)
    (BENCH_DIR / "prometheus").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    from videogen.models import VideoJob

    call_command("migrate", verbosity=0)
    if args.reseed or VideoJob.objects.count() != args.jobs:
        started = time.perf_counter()
        seed(args.jobs)
        print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    else:
        print("reusing the seeded scratch database (--reseed to seed again)")
    print_volume()
    owner, client, campaign = bench_tenant()
    windows = analytics_windows(client, campaign)
    time_selector(windows, args.runs)
    time_http(owner, windows, args.runs)


def print_volume() -> None:
    from videogen.models import CostEntry, JobEvent, Scene, Variation, VideoJob

    counts = {model._meta.verbose_name_plural: model.objects.count()
              for model in (VideoJob, Scene, Variation, CostEntry, JobEvent)}
    print("rows: " + ", ".join(f"{count:,} {name}" for name, count in counts.items()))


def bench_tenant():
    from campaigns.models import Campaign
    from clients.models import Client, Membership

    client = Client.objects.get(name=BIG_CLIENT)
    owner = Membership.objects.filter(client=client).select_related("user").first().user
    campaign = Campaign.objects.filter(client=client).order_by("name").first()
    return owner, client, campaign


def analytics_windows(client, campaign) -> list[tuple[str, dict]]:
    from videogen.models import VideoJob

    today = datetime.now(UTC).date()
    jobs = VideoJob.objects.filter(client=client).count()
    return [
        (f"last 30 days, client with {jobs:,} jobs", {"clientId": client.pk, "from": today - timedelta(days=29),
                                                      "to": today}),
        ("last 366 days (whole history)", {"clientId": client.pk, "from": today - timedelta(days=365), "to": today}),
        ("last 30 days, one campaign", {"clientId": client.pk, "campaignId": campaign.pk,
                                        "from": today - timedelta(days=29), "to": today}),
    ]


def summary(samples: list[float]) -> str:
    return (f"median {statistics.median(samples) * 1000:7.1f} ms  "
            f"[min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f}]")


def time_selector(windows: list[tuple[str, dict]], runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from videogen import analytics

    print(f"selector videogen.analytics.client_analytics, {runs} runs after a warm-up "
          f"(CPU: this process, i.e. the whole query work on SQLite, only the Python side on PostgreSQL); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    for label, params in windows:
        args = (params["clientId"], params["from"], params["to"], params.get("campaignId"))
        with CaptureQueriesContext(connection) as queries:
            report = analytics.client_analytics(*args)
        samples, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            analytics.client_analytics(*args)
            samples.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(f"  {label:<40} {summary(samples)}  CPU {statistics.median(cpu) * 1000:.1f} ms; {len(queries)} queries; "
              f"{report.jobs.started:,} started, {report.videos:,} videos, ${report.spend:,.2f}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn_server():
    port = free_port()
    log = open(BENCH_DIR / "gunicorn-analytics.log", "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start; see var/bench/gunicorn-analytics.log") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def time_http(owner, windows: list[tuple[str, dict]], runs: int) -> None:
    from rest_framework_simplejwt.tokens import RefreshToken

    token = str(RefreshToken.for_user(owner).access_token)
    print(f"HTTP GET /api/v2/analytics through gunicorn (1 sync worker), {runs} runs after a warm-up; "
          f"load average {os.getloadavg()[0]:.1f}:")
    with gunicorn_server() as base:
        for label, params in windows:
            url = f"{base}/api/v2/analytics?{urlencode({k: str(v) for k, v in params.items()})}"
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            body = json.loads(urllib.request.urlopen(request, timeout=120).read())
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                urllib.request.urlopen(request, timeout=120).read()
                samples.append(time.perf_counter() - started)
            print(f"  {label:<40} {summary(samples)}  (approvalRate {body['approvalRate']}, "
                  f"avgCostPerVideo {body['avgCostPerVideo']})", flush=True)


# --- Seeding -------------------------------------------------------------------------------------------


class RowWriter:
    """Batched INSERTs (executemany) of plain dicts into one model's table: every concrete column, the
    model's defaults filled in, values adapted by the backend's own adapters, chosen once per field.

    This is bulk_create without the model instances: building and preparing two million of them (a
    job and its ~19 rows) took the ORM half an hour on a shared 2-core box. Job ids are given here
    (`with_pk`), so the children can point at them before anything is written.
    """

    def __init__(self, model, connection, *, with_pk: bool = False) -> None:
        quote = connection.ops.quote_name
        self.fields = [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]
        self.defaults = {field.attname: field.get_default() for field in self.fields}
        self.adapters = [self._adapter(field, connection) for field in self.fields]
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} "
                    f"({', '.join(quote(field.column) for field in self.fields)}) "
                    f"VALUES ({', '.join(['%s'] * len(self.fields))})")
        self.rows: list[tuple] = []

    @staticmethod
    def _adapter(field, connection):
        kind = (field.target_field if field.is_relation else field).get_internal_type()
        if kind == "DateTimeField":
            return connection.ops.adapt_datetimefield_value
        if kind == "DecimalField":
            return lambda value: connection.ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
        if kind in ("JSONField", "UUIDField"):
            target = field.target_field if field.is_relation else field
            return lambda value: target.get_db_prep_save(value, connection)
        return None

    def add(self, **values) -> None:
        row = {**self.defaults, **values}
        self.rows.append(tuple(
            adapt(row[field.attname]) if adapt else row[field.attname]
            for field, adapt in zip(self.fields, self.adapters, strict=True)
        ))

    def flush(self, cursor) -> int:
        count = len(self.rows)
        for start in range(0, count, 10_000):
            cursor.executemany(self.sql, self.rows[start:start + 10_000])
        self.rows = []
        return count


def seed(total_jobs: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from campaigns.models import Campaign
    from clients.models import Client, Membership
    from videogen.models import CostEntry, JobEvent, Scene, Variation, VideoJob

    for model in (JobEvent, CostEntry, Variation, Scene, VideoJob, Campaign, Membership, Client):
        model.objects.all().delete()
    user_model = get_user_model()
    owner, _ = user_model.objects.get_or_create(username="bench-analytics")
    clients = [Client.objects.create(name=BIG_CLIENT)] + [
        Client.objects.create(name=f"Bench client {n}") for n in range(1, 5)]
    for client in clients:
        Membership.objects.create(user=owner, client=client, role=Membership.Role.OWNER)
    campaigns = {client.pk: [Campaign.objects.create(client=client, name=f"{client.name} campaign {n:02d}")
                             for n in range(1, (20 if client.name == BIG_CLIENT else 5) + 1)]
                 for client in clients}
    writers = {model: RowWriter(model, connection) for model in (Scene, Variation, CostEntry, JobEvent)}
    jobs = RowWriter(VideoJob, connection, with_pk=True)
    rng = random.Random(20261201)
    now = datetime.now(UTC)
    # Jobs are written in the order they were created, as a live database receives them (and their
    # ledger rows and timeline soon after): row order follows time, as it does in production.
    starts = sorted(now - timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(total_jobs))
    next_id = (VideoJob.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    done = 0
    while done < total_jobs:
        size = min(BATCH_JOBS, total_jobs - done)
        with transaction.atomic(), connection.cursor() as cursor:
            for offset, job_id in enumerate(range(next_id, next_id + size)):
                job, children = plan_job(rng, starts[done + offset], clients, campaigns)
                jobs.add(id=job_id, **job)
                for model, rows in children.items():
                    for row in rows:
                        writers[model].add(job_id=job_id, **row)
            for writer in (jobs, *writers.values()):
                writer.flush(cursor)
        next_id += size
        done += size
        print(f"\r  seeding: {done:,}/{total_jobs:,} jobs", end="", flush=True)
    print()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [VideoJob]):
            cursor.execute(statement)  # ids were given explicitly: the sequence (PostgreSQL) moves past them
        cursor.execute("ANALYZE")


STATUSES = [  # (status, weight): most jobs end completed; some wait, fail or are cancelled
    ("completed", 58), ("partially_completed", 5), ("failed", 9), ("cancelled", 6), ("storyboard_complete", 12),
    ("generating_video", 3), ("generating_storyboard", 4), ("needs_clarification", 1), ("stalled", 2),
]
PLATFORMS = [("tiktok", 45), ("meta", 30), ("youtube", 20), ("custom", 5)]
DURATIONS = [(15, 40), (30, 45), (60, 15)]


def pick(rng: random.Random, weighted: list[tuple]) -> object:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def plan_job(rng: random.Random, created: datetime, clients, campaigns) -> tuple:
    """One job's columns, and its scenes, variations, ledger rows and timeline entries (without the job id)."""
    from videogen.models import CostEntry, JobEvent, Scene, Variation

    client = clients[0] if rng.random() < 0.8 else rng.choice(clients[1:])
    campaign = rng.choice(campaigns[client.pk])
    status = pick(rng, STATUSES)
    duration = pick(rng, DURATIONS)
    variations = rng.choice((1, 1, 2, 3))
    hd = rng.random() < 0.2
    refines = pick(rng, [(0, 65), (1, 20), (2, 10), (3, 5)])
    scene_count = max(3, duration // 6)
    image_price = Decimal("0.055") if hd else Decimal("0.003")
    money = {"client_id": client.pk, "campaign_id": campaign.pk}

    events, ledger = [], []
    clock = created + timedelta(seconds=rng.uniform(20, 120))
    for _ in range(refines):
        events.append({"kind": "status", "from_status": "generating_storyboard", "to_status": "storyboard_complete",
                       "created_at": clock})
        clock += timedelta(seconds=rng.lognormvariate(5.5, 1.0))
        events.append({"kind": "refine", "message": "refine requested", "created_at": clock})
        ledger += [{**money, "kind": "storyboard", "amount": image_price, "created_at": clock}
                   for _ in range(rng.randint(1, scene_count))]
        clock += timedelta(seconds=rng.uniform(20, 120))
    storyboard_done = approved = finished = None
    reached_storyboard = status not in ("generating_storyboard", "needs_clarification") and not (
        status in ("failed", "cancelled", "stalled") and rng.random() < 0.4)
    ledger += [{**money, "kind": "storyboard", "amount": image_price, "created_at": clock}
               for _ in range(scene_count if reached_storyboard else rng.randint(0, scene_count - 1))]
    if reached_storyboard:
        storyboard_done = clock
        events.append({"kind": "status", "from_status": "generating_storyboard", "to_status": "storyboard_complete",
                       "created_at": clock})
    rendered = reached_storyboard and (status in ("completed", "partially_completed", "generating_video") or (
        status in ("failed", "cancelled", "stalled") and rng.random() < 0.5))
    if reached_storyboard and (rendered or (status == "storyboard_complete" and rng.random() < 0.3)):
        approved = storyboard_done + timedelta(seconds=rng.lognormvariate(6.0, 1.2))
        clock = approved
    variation_rows = []
    if rendered:
        events.append({"kind": "status", "from_status": "storyboard_complete", "to_status": "generating_video",
                       "created_at": clock})
        clock += timedelta(seconds=rng.uniform(60, 400))
        ok = {"completed": variations, "partially_completed": max(1, variations - 1)}.get(status, 0)
        if status == "partially_completed" and variations == 1:
            variations = 2
        for index in range(1, variations + 1):
            good = index <= ok
            variation_rows.append({"index": index, "status": "completed" if good else "failed", "percentage": 100,
                                   "duration_seconds": float(duration) if good else None, "updated_at": clock})
            if good or rng.random() < 0.5:  # a failed variation's clips were often paid for before it failed
                ledger.append({**money, "kind": "video", "amount": Decimal("0.10") * duration, "created_at": clock})
    if status in ("completed", "partially_completed", "failed", "cancelled"):
        finished = clock + timedelta(seconds=rng.uniform(1, 30))
        events.append({"kind": "status", "to_status": status, "created_at": finished})
    last = finished or clock
    job = {
        "client_id": client.pk, "campaign_id": campaign.pk, "video_name": f"Bench ad {rng.randrange(10**6)}",
        "creative_prompt": "bench", "duration": duration, "platform": pick(rng, PLATFORMS), "aspect_ratio": "9:16",
        "number_of_variations": variations, "status": status, "stage": status, "percentage": 100 if finished else 50,
        "approved": approved is not None, "retry_count": refines,
        "estimated_cost": scene_count * image_price + Decimal("0.10") * duration * variations,
        "actual_cost": sum((entry["amount"] for entry in ledger), Decimal("0")),
        "created_at": created, "updated_at": last, "storyboard_started_at": created,
        "storyboard_completed_at": storyboard_done, "approved_at": approved,
        "render_started_at": approved if rendered else None, "finished_at": finished,
    }
    scenes = [{"number": n, "description": "bench scene", "prompt": "bench scene", "start_seconds": (n - 1) * 5,
               "duration_seconds": 5, "status": "completed" if reached_storyboard else "failed", "updated_at": last}
              for n in range(1, scene_count + 1)]
    return job, {Scene: scenes, Variation: variation_rows, CostEntry: ledger, JobEvent: events}


if __name__ == "__main__":
    main()
