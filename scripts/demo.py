#!/usr/bin/env python
"""`make demo`: start the service (web + worker) and produce a real video through the HTTP API.

Runs the whole flow the Next.js frontend runs — token, generate, poll the storyboard,
render, poll the render, download — against a real gunicorn server (uvicorn workers: ASGI, as
deployed) and a real django-q2 worker, with the offline provider. The server and the worker keep running afterwards so
the admin, the API docs and /metrics can be explored; `make stop` ends them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
RUN = VAR / "run"
LOGS = VAR / "log"
DOWNLOADS = VAR / "demo"
PYTHON = sys.executable

PROMPT = (
    "Scene 1: a runner laces up bright sneakers on a rooftop at dawn. "
    "Scene 2: she sprints through neon-lit city streets, the shoe in sharp focus. "
    "Scene 3: a close-up of the recycled-material sole hitting wet pavement. "
    "Scene 4: friends cheer as she crosses the finish line."
)


def _pid_file(name: str) -> Path:
    return RUN / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop() -> None:
    for name in ("web", "worker"):
        path = _pid_file(name)
        if not path.exists():
            continue
        pid = int(path.read_text())
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
            print(f"stopped {name} (pid {pid})")
        path.unlink(missing_ok=True)


def _running(name: str) -> bool:
    path = _pid_file(name)
    return path.exists() and _alive(int(path.read_text()))


def _start(name: str, command: list[str], env: dict[str, str]) -> None:
    path = _pid_file(name)
    if path.exists() and _alive(int(path.read_text())):
        print(f"{name} already running (pid {path.read_text()})")
        return
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    path.write_text(str(process.pid))
    print(f"started {name} (pid {process.pid}), log {LOGS / f'{name}.log'}")


class Api:
    def __init__(self, base: str):
        self.base = base
        self.token = ""
        self.last_headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None, raw: bool = False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                self.last_headers = dict(response.headers)
                payload = response.read()
                return response.status, (payload if raw else json.loads(payload or b"null"))
        except urllib.error.HTTPError as error:
            self.last_headers = dict(error.headers)
            return error.code, json.loads(error.read() or b"null")


def _wait_ready(api: Api, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            status, _ = api.call("GET", "/readyz")
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
            pass
        time.sleep(0.5)
    sys.exit(f"the server did not become ready; see {LOGS / 'web.log'}")


def _poll(api: Api, job_id: int, until: set[str], timeout: float) -> dict:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        status, job = api.call("GET", f"/api/v2/jobs/{job_id}")
        if status == 429:  # polling faster than the per-job limit: wait as told
            time.sleep(float(api.last_headers.get("Retry-After", 2)))
            continue
        if status != 200:
            sys.exit(f"polling failed: {status} {job}")
        progress = job["progress"]
        line = f"  {job['status']:<22} {progress['stage']:<20} {progress['percentage']:>3}%"
        if line != last:
            print(line, flush=True)
            last = line
        if job["status"] in until:
            return job
        time.sleep(min(job.get("pollAfter") or 2, 5))
    sys.exit(f"job {job_id} did not reach {until} in {timeout:.0f}s; see {LOGS / 'worker.log'}")


def _download(api: Api, job_id: int, query: str, target: Path) -> Path:
    status, payload = api.call("GET", f"/api/v2/jobs/{job_id}/{query}", raw=True)
    if status != 200:
        sys.exit(f"download {query} failed: {status}")
    target.write_bytes(payload)
    return target


def demo(port: int) -> None:
    for folder in (RUN, LOGS, DOWNLOADS):
        folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VIDEOGEN_PROVIDER": os.environ.get("VIDEOGEN_PROVIDER", "local"),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    seed = json.loads(subprocess.run([PYTHON, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1])
    if not any(_running(name) for name in ("web", "worker")):
        # One metrics directory per host, emptied before web and worker start (never while they run).
        subprocess.run([PYTHON, "manage.py", "reset_metrics"], cwd=ROOT, env=env, check=True)
    _start("web", [str(Path(PYTHON).parent / "gunicorn"), "config.asgi:application", "--worker-class",
                   "uvicorn_worker.UvicornWorker", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120"],
           env)
    _start("worker", [PYTHON, "manage.py", "qcluster"], env)
    api = Api(f"http://127.0.0.1:{port}")
    _wait_ready(api)

    status, tokens = api.call("POST", "/api/v2/auth/token",
                              {"username": seed["username"], "password": seed.get("password", "demo-password-123")})
    if status != 200:
        sys.exit(f"login failed: {status} {tokens}")
    api.token = tokens["access"]
    started = time.time()
    status, created = api.call("POST", "/api/v2/generate", {
        "campaignId": seed["campaignId"], "clientId": seed["clientId"], "videoName": "Demo sneaker launch",
        "creativePrompt": PROMPT, "duration": 15, "platform": "tiktok", "numberOfVariations": 2,
        "stylePresets": ["cinematic"], "keywords": ["sustainability", "speed"],
        # The client's product packshot goes into the product scene; captions burned in; a voiceover
        # reads each scene's narration and the CTA.
        "assets": [{"id": seed["productAssetId"], "role": "product"}], "captions": True,
        "audioControls": {"musicStyle": "upbeat", "volume": 0.6, "voiceover": {"enabled": True}},
        "exportFormats": ["mp4", "gif", "webm"],
    })
    if status != 202:
        sys.exit(f"generate failed: {status} {created}")
    job_id = created["job_id"]
    breakdown = created["costBreakdown"]
    print(f"job {job_id} queued, estimated cost ${created['estimatedCost']} with the offline provider "
          f"(the same job on Replicate: ${breakdown['replicateEquivalent']}) {breakdown}")
    job = _poll(api, job_id, {"storyboard_complete", "needs_clarification", "failed"}, timeout=300)
    if job["status"] != "storyboard_complete":
        sys.exit(f"storyboard ended {job['status']}: {job['error'] or job['clarification']}")
    print(f"storyboard ({job['planner']} planner):")
    for scene in job["storyboard"]:
        print(f"  scene {scene['sceneNumber']} @{scene['timestamp']:>4.0f}s {scene['duration']:.0f}s "
              f"[{scene['role'] or '-'}]  {scene['description']}")
        spoken = f"   narration: {scene['narration']}" if scene["narration"] else ""
        print(f"      caption: \"{scene['caption']}\"{spoken}")
        for number, opening in enumerate(scene["hookVariants"][: job["numberOfVariations"] - 1], start=2):
            print(f"      variation {number} opens with: \"{opening['caption']}\"")
    status, rendered = api.call("POST", f"/api/v2/jobs/{job_id}/render")
    if status != 202:
        sys.exit(f"render failed: {status} {rendered}")
    job = _poll(api, job_id, {"completed", "partially_completed", "failed"}, timeout=900)
    if job["status"] == "failed":
        sys.exit(f"render failed: {job['error']}")
    files = {
        "mp4": _download(api, job_id, "data?format=mp4", DOWNLOADS / f"job{job_id}.mp4"),
        "gif": _download(api, job_id, "data?format=gif", DOWNLOADS / f"job{job_id}.gif"),
        "webm": _download(api, job_id, "data?format=webm", DOWNLOADS / f"job{job_id}.webm"),
        "thumbnail": _download(api, job_id, "thumbnail", DOWNLOADS / f"job{job_id}-thumbnail.jpg"),
    }
    media_root = Path(os.environ.get("VIDEO_STORAGE_PATH", VAR / "media"))
    print(f"\njob {job_id} {job['status']} in {time.time() - started:.0f}s, actual cost ${job['actualCost']} "
          f"(offline provider)")
    if job.get("voiceover"):
        print(f"voiceover ({job['voiceover']['voice']}, {job['voiceover']['seconds']} s): {job['voiceover']['script']}")
    print("downloaded through the API:")
    for kind, path in files.items():
        print(f"  {kind:<9} {path}  ({path.stat().st_size / 1e6:.2f} MB)")
    print("stored (layout in docs/design.md):")
    for variation in job["results"]["variations"]:
        folder = media_root / (f"videos/{job_id}" if variation["index"] == 1
                               else f"videos/{job_id}/variation_{variation['index']}")
        print(f"  variation {variation['index']}: {variation['status']}, {variation['durationSeconds']}s -> {folder}/")
    print(f"\nstill running: API http://127.0.0.1:{port}/api/docs/  admin http://127.0.0.1:{port}/admin/ "
          f"(user {seed['username']})  metrics http://127.0.0.1:{port}/metrics")
    print("stop them with: make stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stop", action="store_true", help="stop the demo's web server and worker")
    args = parser.parse_args()
    if args.stop:
        stop()
    else:
        demo(args.port)


if __name__ == "__main__":
    main()
