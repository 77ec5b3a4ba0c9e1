#!/usr/bin/env python
"""Live updates under load: do open event streams starve the API? (prints figures, never fails)

Starts the web as deployed (gunicorn + uvicorn workers, ASGI) on 127.0.0.1 with its own database,
then measures, from this process over loopback:

1. poll latency of GET /api/v2/jobs/{id} from CLIENTS keep-alive clients (closed loop, THINK seconds
   between requests) with no stream open;
2. the same while STREAMS Server-Sent Events streams are open (spread over the jobs);
3. the delay from a job change (committed here, through the real state machine) to its event on
   every stream watching that job.

The backend follows the environment like the service: SQLite (version checks every
EVENTS_POLL_INTERVAL), or DATABASE_URL=postgres://... (LISTEN/NOTIFY), plus REDIS_URL (pub/sub).
Client and server share this machine's cores, so the figures are an upper bound for the server.

    python benchmarks/bench_events.py [--streams 500] [--clients 50] [--seconds 15] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- a minimal HTTP/1.1 client (the load generator must cost less CPU than the server it measures) --

async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line}
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    body = b""
    while True:  # chunked
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            await reader.readline()
            return status, body
        body += await reader.readexactly(size)
        await reader.readline()


async def poller(port: int, token: str, job_ids: list[int], index: int, until: float, think: float,
                 latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = index
    try:
        while time.monotonic() < until:
            job_id = job_ids[n % len(job_ids)]
            n += 1
            started = time.perf_counter()
            writer.write(f"GET /api/v2/jobs/{job_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Authorization: Bearer {token}\r\n\r\n".encode())
            status, _ = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(str(status))
            await asyncio.sleep(think)
    finally:
        writer.close()


async def poll_phase(port: int, token: str, job_ids: list[int], clients: int, seconds: float,
                     think: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(*(poller(port, token, job_ids, i, until, think, latencies, errors) for i in range(clients)))
    return latencies, errors, time.monotonic() - started


class Stream:
    """One open event stream; records when each event id arrived."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.arrivals: dict[int, float] = {}
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.error = ""

    async def run(self, port: int, token: str) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET /api/v2/jobs/{self.job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Accept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
            await reader.readuntil(b"\r\n\r\n")
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"id: "):
                    self.arrivals[int(line[4:])] = time.perf_counter()
                    self.ready.set()
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()


async def run_load(port: int, token: str, job_ids: list[int], args: argparse.Namespace) -> None:
    from videogen.models import VideoJob
    from videogen.pipeline import state

    print(f"\n1. {args.clients} clients polling, no stream open ({args.seconds:.0f} s, think {args.think} s)")
    latencies, errors, took = await poll_phase(port, token, job_ids, args.clients, args.seconds, args.think)
    baseline = percentile(latencies, 0.95)
    print(f"   {len(latencies)} polls ({len(latencies) / took:.0f}/s), p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p95 {baseline * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, errors {len(errors)}")

    print(f"\n2. opening {args.streams} event streams over {len(job_ids)} jobs")
    opened = time.monotonic()
    streams = [Stream(job_ids[i % len(job_ids)]) for i in range(args.streams)]
    for stream in streams:
        stream.task = asyncio.create_task(stream.run(port, token))
    await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), timeout=120)
    failed = [s.error for s in streams if s.error]
    print(f"   all {len(streams) - len(failed)} streams got their first event in {time.monotonic() - opened:.1f} s"
          f"{f' ({len(failed)} failed: {failed[0]})' if failed else ''}")

    print(f"   {args.clients} clients polling with the streams open, while one job changes every second")
    delays: list[float] = []

    changes: list[tuple[int, int, float]] = []  # (job, version, when the write started)

    async def change_jobs() -> None:
        loop = asyncio.get_running_loop()
        for n in range(max(1, int(args.seconds) - 1)):
            job_id = job_ids[n % len(job_ids)]
            started = time.perf_counter()
            await loop.run_in_executor(None, lambda job_id=job_id, n=n: state.report_progress(
                job_id, run=1, stage="parsing_brief", percentage=1 + n))
            version = await loop.run_in_executor(
                None, lambda job_id=job_id: VideoJob.objects.values_list("version", flat=True).get(pk=job_id))
            changes.append((job_id, version, started))
            await asyncio.sleep(1.0)

    (latencies, errors, took), _ = await asyncio.gather(
        poll_phase(port, token, job_ids, args.clients, args.seconds, args.think), change_jobs()
    )
    loaded = percentile(latencies, 0.95)
    await asyncio.sleep(args.settle)
    missing = 0
    for job_id, version, started in changes:
        for stream in (s for s in streams if s.job_id == job_id):
            if version in stream.arrivals:
                delays.append(stream.arrivals[version] - started)
            else:
                missing += 1
    print(f"   {len(latencies)} polls ({len(latencies) / took:.0f}/s), p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p95 {loaded * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, errors {len(errors)}")

    print("\n3. delay from a change (its write starting) to its event on each stream watching the job")
    print(f"   {len(changes)} changes; events not received: {missing}")
    if delays:
        print(f"   {len(delays)} deliveries: p50 {statistics.median(delays) * 1000:.0f} ms, "
              f"p95 {percentile(delays, 0.95) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
    print(f"\npoll p95: {baseline * 1000:.1f} ms without streams, "
          f"{loaded * 1000:.1f} ms with {args.streams} streams open")
    for stream in streams:
        stream.task.cancel()
    await asyncio.gather(*(s.task for s in streams), return_exceptions=True)


def free_port_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    return listener


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--think", type=float, default=0.2, help="seconds between one client's polls")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core)")
    parser.add_argument("--settle", type=float, default=1.0, help="extra wait before reading a change's events")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    scratch = Path(tempfile.mkdtemp(prefix="bench-events-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(scratch),
        "PROMETHEUS_MULTIPROC_DIR": str(scratch / "metrics"), "LOG_LEVEL": "WARNING",
        "THROTTLE_POLL": "1000000/min", "THROTTLE_LIST": "1000000/min",
    })
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory
    from videogen.models import VideoJob

    print(f"backend: {settings.EVENTS_BACKEND} (database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
          f"{', Redis' if settings.REDIS_URL else ''}), {args.workers} uvicorn workers, {os.cpu_count()} cores")
    call_command("migrate", verbosity=0)
    user = UserFactory()
    client = ClientFactory()
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    job_ids = [VideoJob.objects.create(client=client, campaign=campaign, created_by=user, video_name=f"Bench {n}",
                                       creative_prompt="A runner at dawn", duration=15, platform="tiktok",
                                       aspect_ratio="9:16").pk for n in range(args.jobs)]
    token = str(RefreshToken.for_user(user).access_token)

    listener = free_port_socket()
    port = listener.getsockname()[1]
    log = open(scratch / "web.log", "wb")  # noqa: SIM115 - the server's
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker",
         "--bind", f"fd://{listener.fileno()}", "--workers", str(args.workers), "--timeout", "120"],
        cwd=ROOT, env=os.environ.copy(), pass_fds=[listener.fileno()], stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    if b" 200 " in probe.recv(100):
                        break
            except OSError:
                pass
            time.sleep(0.3)
        asyncio.run(run_load(port, token, job_ids, args))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        listener.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
