"""Benchmark of the pipeline against the fake Replicate server (never asserts on timing).

    .venv/bin/python benchmarks/bench_replicate.py [--latency 8] [--runs 3] [--jobs 20] [--many 100]
                                                   [--renders 20] [--workers 2]
                                                   [--database-url postgres://... --redis-url redis://...]

Starts the fake server with a fixed prediction latency L, a throwaway SQLite database under
var/bench/ (migrated here; the ORM broker, no Redis) and a real `qcluster` with N workers (its
main process runs the provider poller), then measures through the real pipeline, from the jobs'
own timestamps:

1. one 5-scene storyboard (duration 30), `--runs` times: wall time and wall / L (goal <= 1.3;
   the five images are made in parallel, so the ideal is one latency plus overhead);
2. `--jobs` storyboards of one user created at once: per-job p50/p95 (goal p95 <= 1.5 x L);
3. `--many` storyboards created at once (goal p95 <= 2 x L);
4. `--renders` renders of one variation each, started at once (the storyboards of 2): per job
   render p95, split into the clip phase (provider: about L) and the rest (FFmpeg assembly,
   thumbnail, downloads), which is CPU work shared by the workers.

Every job gets its own prompts so the scene image cache never answers for the provider.
Knobs from the environment apply as usual (POLLER_INTERVAL, Q_WORKERS, ...).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_replicate import FakeReplicate  # noqa: E402  (no Django imports)

BENCH_DIR = ROOT / "var" / "bench"
SCENES = ("a runner laces up orange shoes at sunrise", "the sole flexing on wet asphalt",
          "the runner overtakes a tram downtown", "the shoe rotating on a pedestal",
          "friends high-five at the park run finish")


def configure(fake: FakeReplicate, workers: int, database_url: str = "", redis_url: str = "") -> dict[str, str]:
    """Environment for this process and the workers: set before Django reads its settings.

    Embedded by default (SQLite, ORM broker); `database_url` and `redis_url` measure the scale set-up
    (give an empty database: the benchmark migrates it)."""
    shutil.rmtree(BENCH_DIR, ignore_errors=True)
    BENCH_DIR.mkdir(parents=True)
    env = {
        "DATABASE_URL": database_url or f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}",
        "VIDEO_STORAGE_PATH": str(BENCH_DIR / "media"),
        "PROMETHEUS_MULTIPROC_DIR": str(BENCH_DIR / "prometheus"),
        "VIDEOGEN_PROVIDER": "replicate",
        # The rules planner: the LLM planner's text prediction (and its canned fake reply, the same
        # scenes for every job, so the image cache would answer) would measure something else.
        "VIDEOGEN_PLANNER": "rules",
        "REPLICATE_API_TOKEN": "bench",
        "REPLICATE_BASE_URL": fake.base_url,
        "TASK_QUEUE_NAME": f"bench{os.getpid()}",
        "Q_WORKERS": str(workers),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    os.environ.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CACHE_KEY_PREFIX"] = env["TASK_QUEUE_NAME"]
    os.environ.pop("PUBLIC_BASE_URL", None)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


def start_cluster() -> subprocess.Popen:
    log = open(BENCH_DIR / "qcluster.log", "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=os.environ.copy(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_cluster(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)  # the sentinel only: it stops its workers itself
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def tenant():
    from django.contrib.auth import get_user_model

    from campaigns.models import Campaign
    from clients.models import Client, Membership

    user = get_user_model().objects.create_user("bench", password="bench-password")
    client = Client.objects.create(name="Bench Sneakers", brand_voice="Energetic", color_palette=["#FF6B35"])
    Membership.objects.create(user=user, client=client, role=Membership.Role.OWNER)
    campaign = Campaign.objects.create(client=client, name="Bench", objective="awareness", cta="Run with us")
    return user, campaign


def create_job(user, campaign, tag: str) -> int:
    from videogen import services
    from videogen.api.serializers import GenerationRequestSerializer

    prompt = " ".join(f"Scene {n}: {text}, {tag}." for n, text in enumerate(SCENES, start=1))
    serializer = GenerationRequestSerializer(data={
        "campaignId": str(campaign.id), "clientId": str(campaign.client_id), "videoName": f"Bench {tag}",
        "creativePrompt": prompt, "duration": 30, "platform": "tiktok", "numberOfVariations": 1,
    })
    serializer.is_valid(raise_exception=True)
    return services.create_job(user=user, data=serializer.to_job_fields(campaign), idempotency_key=None).job.pk


def wait_until_done(job_ids: list[int], timeout: float) -> list[float]:
    """Seconds from each job's creation to its storyboard_complete (database timestamps)."""
    from videogen.models import VideoJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = set(VideoJob.objects.filter(pk__in=job_ids).values_list("status", flat=True))
        if statuses & {"failed", "needs_clarification", "stalled"}:
            failed = VideoJob.objects.filter(pk__in=job_ids, status__in=["failed", "needs_clarification", "stalled"])[0]
            raise SystemExit(f"job {failed.pk} ended {failed.status}: {failed.error}")
        if statuses == {"storyboard_complete"}:
            jobs = VideoJob.objects.filter(pk__in=job_ids)
            return [(job.storyboard_completed_at - job.created_at).total_seconds() for job in jobs]
        # The figures come from the jobs' own timestamps: looking less often only spares the CPU
        # the workers and the poller are measured on.
        time.sleep(0.25)
    raise SystemExit(f"timed out; see {BENCH_DIR / 'qcluster.log'}")


def wait_until_rendered(job_ids: list[int], timeout: float) -> list[tuple[float, float]]:
    """(render seconds, clip-phase seconds) per job: render start -> finished, and -> the last clip landed."""
    from django.db.models import Max

    from videogen.models import Prediction, VideoJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = list(VideoJob.objects.filter(pk__in=job_ids))
        failed = [job for job in jobs if job.status in ("failed", "partially_completed", "stalled")]
        if failed:
            raise SystemExit(f"job {failed[0].pk} ended {failed[0].status}: {failed[0].error}")
        if all(job.status == "completed" for job in jobs):
            clips = dict(Prediction.objects.filter(job_id__in=job_ids, purpose="video").values("job_id")
                         .annotate(last=Max("completed_at")).values_list("job_id", "last"))
            return [((job.finished_at - job.render_started_at).total_seconds(),
                     (clips[job.pk] - job.render_started_at).total_seconds()) for job in jobs]
        time.sleep(0.05)
    raise SystemExit(f"timed out; see {BENCH_DIR / 'qcluster.log'}")


def start_renders(job_ids: list[int]) -> None:
    from videogen import services
    from videogen.models import VideoJob

    for job in VideoJob.objects.filter(pk__in=job_ids):
        services.start_render(job)


def concurrent_storyboards(user, campaign, fake, count: int, latency: float, tag: str) -> list[int]:
    before, polls_before = fake.create_count(), fake.gets
    started = time.monotonic()
    ids = [create_job(user, campaign, f"{tag} {n}") for n in range(count)]
    per_job = wait_until_done(ids, timeout=120 + 10 * count * latency)
    total = time.monotonic() - started
    p50, p95 = percentile(per_job, 0.5), percentile(per_job, 0.95)
    print(f"{count} concurrent storyboards of one user: {total:.2f}s wall, per job p50 {p50:.2f}s "
          f"({p50 / latency:.2f} x L) / p95 {p95:.2f}s = {p95 / latency:.2f} x L, "
          f"{fake.create_count() - before} predictions, {fake.gets - polls_before} status requests")
    return ids


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=8.0, help="fake prediction latency L in seconds")
    parser.add_argument("--runs", type=int, default=3, help="single-storyboard runs")
    parser.add_argument("--jobs", type=int, default=20, help="concurrent storyboards of one user")
    parser.add_argument("--many", type=int, default=100, help="a larger batch of concurrent storyboards")
    parser.add_argument("--renders", type=int, default=20, help="concurrent renders (one variation each)")
    parser.add_argument("--database-url", default="", help="an empty database to measure on (default SQLite)")
    parser.add_argument("--redis-url", default="", help="Redis for cache and broker (default: ORM broker)")
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers")
    args = parser.parse_args()
    latency = args.latency

    with FakeReplicate(latency=latency) as fake:
        configure(fake, args.workers, args.database_url, args.redis_url)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        user, campaign = tenant()
        cluster = start_cluster()
        try:
            print(f"fake latency L={latency:.1f}s, {args.workers} workers, "
                  f"POLLER_INTERVAL={settings.POLLER_INTERVAL}s, "
                  f"PROVIDER_CONCURRENCY={settings.PROVIDER_CONCURRENCY}, "
                  f"{'PostgreSQL' if args.database_url.startswith('postgres') else 'SQLite'} + "
                  f"{'Redis' if args.redis_url else 'ORM'} broker")
            wait_until_done([create_job(user, campaign, "warm-up")], timeout=120)  # worker start, imports

            walls = []
            for run in range(1, args.runs + 1):
                before = fake.create_count()
                (wall,) = wait_until_done([create_job(user, campaign, f"run {run}")], timeout=120)
                walls.append(wall)
                print(f"single 5-scene storyboard, run {run}: {wall:.2f}s = {wall / latency:.2f} x L "
                      f"({fake.create_count() - before} predictions)")
            if walls:
                best, median = min(walls), statistics.median(walls)
                print(f"single storyboard: median {median:.2f}s = {median / latency:.2f} x L "
                      f"(best {best / latency:.2f} x L; goal <= 1.3)")

            batch = concurrent_storyboards(user, campaign, fake, args.jobs, latency, "batch") if args.jobs else []
            if args.many:
                concurrent_storyboards(user, campaign, fake, args.many, latency, "many")
            if args.renders and batch:
                ids = batch[: args.renders]
                before = fake.create_count()
                start_renders(ids)
                measured = wait_until_rendered(ids, timeout=600 + 10 * len(ids) * latency)
                totals = [total for total, _ in measured]
                clip_phase = [clips for _, clips in measured]
                rest = [total - clips for total, clips in measured]
                p95 = percentile(totals, 0.95)
                print(f"{len(ids)} concurrent renders (1 variation, 5 clips each): per job p50 "
                      f"{percentile(totals, 0.5):.2f}s / p95 {p95:.2f}s = {p95 / latency:.2f} x L; clip phase "
                      f"p95 {percentile(clip_phase, 0.95):.2f}s = {percentile(clip_phase, 0.95) / latency:.2f} x L, "
                      f"then FFmpeg and storing p50 {percentile(rest, 0.5):.2f}s / p95 {percentile(rest, 0.95):.2f}s; "
                      f"{fake.create_count() - before} predictions")
        finally:
            stop_cluster(cluster)


if __name__ == "__main__":
    main()
