"""Tests for the fake Replicate server, driven by the real ``replicate`` client (1.0.x).

Run: ``PYTHONPATH=. .venv/bin/python -m pytest tests/test_fake_replicate.py -q -p no:django``
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ReplicateError
from replicate.webhook import InvalidSignatureError, WebhookSigningSecret

from tests.fake_replicate import (
    THROTTLE_DETAIL,
    WEBHOOK_TEST_VECTOR,
    FakeReplicate,
    error,
    parse_duration,
    sign,
    slow,
    throttled,
)

FLUX = "black-forest-labs/flux-schnell"
KLING = "kwaivgi/kling-v2.1"
WAN = "wavespeedai/wan-2.1-i2v-480p"
LATENCY = FAKE_REPLICATE_LATENCY = 0.2
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}

VECTOR = WEBHOOK_TEST_VECTOR


@pytest.fixture
def fake(fake_server):
    fake_server.reset()
    yield fake_server
    assert fake_server.server_errors == [], fake_server.server_errors[-1]


@pytest.fixture(scope="module")
def _client(fake_server):
    return replicate.Client(api_token="test", base_url=fake_server.base_url)


@pytest.fixture
def client(fake, _client):
    return _client


def create(client, model=FLUX, **kwargs):
    kwargs.setdefault("input", {"prompt": "a red fox in snow"})
    return client.models.predictions.create(model=model, **kwargs)


def wait_terminal(client, pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = client.predictions.get(pid)
        if p.status in TERMINAL:
            return p
        time.sleep(0.02)
    raise AssertionError(f"prediction {pid} did not finish")


class _Receiver(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        return

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.received.append({"headers": dict(self.headers), "body": body})
        code = self.server.codes.pop(0) if self.server.codes else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    srv.received = []
    srv.codes = []
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/hooks/replicate"
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- signing


def test_sign_matches_the_test_vector():
    assert sign(VECTOR["id"], VECTOR["timestamp"], VECTOR["body"], VECTOR["key"]) == VECTOR["signature"]
    assert sign(VECTOR["id"], str(VECTOR["timestamp"]), VECTOR["body"].encode(), VECTOR["key"]) == VECTOR["signature"]


def test_client_validator_accepts_the_test_vector(client):
    headers = {
        "webhook-id": VECTOR["id"],
        "webhook-timestamp": str(VECTOR["timestamp"]),
        "webhook-signature": VECTOR["signature"],
    }
    secret = WebhookSigningSecret(key=VECTOR["key"])
    assert client.webhooks.validate(headers=headers, body=VECTOR["body"], secret=secret) is None
    with pytest.raises(InvalidSignatureError):
        client.webhooks.validate(headers=headers, body='{"test": 1}', secret=secret)


def test_parse_cancel_after_durations():
    assert parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400
    assert parse_duration("500ms") == 0.5
    assert parse_duration("45") == 45
    assert parse_duration("soon") is None


# --------------------------------------------------------------------------- lifecycle & outputs


def test_base_url_is_what_the_client_expects(fake):
    assert fake.base_url == f"http://127.0.0.1:{fake.port}"
    assert fake.api_url == fake.base_url + "/v1"
    # A base URL that already ends in /v1 works too (the doubled prefix is tolerated).
    p = create(replicate.Client(api_token="test", base_url=fake.api_url))
    assert p.status == "starting"


def test_lifecycle_starting_processing_succeeded(client, fake):
    p = create(client)
    assert p.status == "starting"
    assert p.model == FLUX and p.version and p.output is None
    assert p.urls["get"].endswith(f"/v1/predictions/{p.id}")
    seen = [p.status]
    while seen[-1] not in TERMINAL:
        time.sleep(0.02)
        status = client.predictions.get(p.id).status
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["starting", "processing", "succeeded"]
    done = client.predictions.get(p.id)
    assert done.started_at and done.completed_at and done.error is None
    assert done.metrics["total_time"] == pytest.approx(LATENCY)
    assert fake.gets >= 3
    assert fake.predictions[p.id]["status"] == "succeeded"
    assert fake.predictions[p.id]["data_removed"] is False


def test_image_output_is_a_downloadable_png(client, fake):
    fake.latency = 0.05
    p = wait_terminal(client, create(client, input={"prompt": "a cat", "aspect_ratio": "16:9"}).id)
    assert isinstance(p.output, list) and len(p.output) == 1
    r = httpx.get(p.output[0])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    assert img.format == "PNG" and img.size == (256, 144)

    other = wait_terminal(client, create(client, input={"prompt": "a dog", "num_outputs": 2}).id)
    assert len(other.output) == 2
    pixel = Image.open(io.BytesIO(httpx.get(other.output[0]).content)).convert("RGB").getpixel((255, 255))
    assert img.convert("RGB").getpixel((255, 143)) != pixel  # colour depends on the prompt


def test_output_format_webp_is_honoured(client, fake):
    fake.latency = 0.05
    p = wait_terminal(client, create(client, input={"prompt": "x", "output_format": "webp"}).id)
    r = httpx.get(p.output[0])
    assert r.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(r.content)).format == "WEBP"


def _probe(tmp_path, url):
    r = httpx.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    path = tmp_path / "out.mp4"
    path.write_bytes(r.content)
    return imageio_ffmpeg.count_frames_and_secs(str(path))


def test_video_output_is_a_single_mp4_url(client, fake, tmp_path):
    image = "data:image/png;base64," + "aGVsbG8gd29ybGQ="
    p = create(client, KLING, input={"prompt": "zoom", "start_image": image, "duration": 2}, wait=5)
    assert p.status == "succeeded"
    assert isinstance(p.output, str) and p.output.endswith(".mp4")
    frames, secs = _probe(tmp_path, p.output)
    assert secs == pytest.approx(2, abs=0.1) and frames > 0
    assert fake.creates[-1]["media"]["start_image"] == {
        "kind": "data",
        "mime": "image/png",
        "bytes": len(b"hello world"),
        "valid": True,
    }

    wan = create(client, WAN, input={"prompt": "p", "image": "https://example.com/a.png", "num_frames": 24,
                                    "frames_per_second": 12}, wait=5)  # fmt: skip
    assert fake.creates[-1]["media"]["image"] == {"kind": "url", "url": "https://example.com/a.png", "valid": True}
    assert _probe(tmp_path, wan.output)[1] == pytest.approx(2, abs=0.1)


def test_upscale_model_gives_one_mp4(client, fake, tmp_path):
    fake.latency = 0.05
    p = create(client, "topazlabs/video-upscale", input={"video": "https://example.com/v.mp4"}, wait=5)
    assert isinstance(p.output, str)
    assert _probe(tmp_path, p.output)[1] == pytest.approx(5, abs=0.1)


def test_invalid_data_uri_is_rejected_with_422(client, fake):
    with pytest.raises(ReplicateError) as exc:
        create(client, KLING, input={"prompt": "x", "start_image": "data:image/png;base64,@@not-base64@@"})
    assert exc.value.status == 422
    assert fake.create_count(KLING, accepted=False) == 1


def test_prefer_wait_returns_terminal_prediction(client, fake):
    p = create(client, wait=5)
    assert p.status == "succeeded" and p.output
    assert fake.creates[-1]["status"] == 201
    assert fake.creates[-1]["prefer"] == "wait=5"
    p2 = create(client)
    assert p2.status == "starting"
    assert fake.creates[-1]["status"] == 202


def test_prefer_wait_gives_up_after_n_seconds(client, fake):
    fake.model_latency[FLUX] = 2.4  # "starting" for 0.8 s
    start = time.monotonic()
    p = create(client, wait=1)
    assert 0.9 <= time.monotonic() - start < 3
    assert p.status == "processing"
    assert fake.creates[-1]["status"] == 202


def test_advance_moves_the_clock(client, fake):
    fake.latency = 600
    p = create(client)
    assert client.predictions.get(p.id).status == "starting"
    fake.advance(300)
    assert client.predictions.get(p.id).status == "processing"
    fake.advance(301)
    assert client.predictions.get(p.id).status == "succeeded"


def test_finish_ends_a_hung_prediction_now(client, fake):
    fake.script("create", ["hang", "hang"])
    a, b = create(client), create(client)
    assert fake.finish(a.id)["status"] == "succeeded"
    assert client.predictions.get(a.id).output
    assert fake.finish(b.id, "fail")["status"] == "failed"


def test_stop_really_stops_even_keep_alive_connections():
    fake = FakeReplicate(latency=0.05).start()
    c = fake.client()
    p = create(c)
    assert c.predictions.get(p.id).id == p.id  # pooled keep-alive connection now open
    fake.stop()
    with pytest.raises(httpx.TransportError):
        c.predictions.get(p.id)


def test_pinned_version_create_and_list_pagination(client, fake):
    fake.versions["abc123"] = FLUX
    fake.page_size = 2
    ids = [client.predictions.create(version="abc123", input={"prompt": str(i)}).id for i in range(3)]
    assert fake.creates[0]["model"] == FLUX and fake.creates[0]["version"] == "abc123"
    page = client.predictions.list()
    assert [p.id for p in page.results] == ids[::-1][:2]
    assert page.next
    rest = client.predictions.list(page.next)
    assert [p.id for p in rest.results] == [ids[0]] and rest.next is None


def test_file_upload_roundtrip(client, fake):
    f = client.files.create(io.BytesIO(b"\x89PNG fake bytes"), filename="in.png")
    assert f.size == 15 and f.content_type == "image/png"
    assert httpx.get(f.urls["get"]).content == b"\x89PNG fake bytes"
    # The client uploads file objects in inputs and sends the URL.
    create(client, KLING, input={"prompt": "x", "start_image": io.BytesIO(b"abc")})
    assert fake.creates[-1]["media"]["start_image"]["kind"] == "url"
    assert len(fake.uploads) == 2


# --------------------------------------------------------------------------- auth & outage


def test_auth_required_and_both_schemes_accepted(fake):
    url = fake.api_url + f"/models/{FLUX}/predictions"
    body = {"input": {"prompt": "x"}}
    r = httpx.post(url, json=body)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert httpx.post(url, json=body, headers={"Authorization": "Token abc"}).status_code == 202
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer abc"}).status_code == 202
    assert fake.create_count() == 2  # rejected auth is not a create attempt


def test_down_makes_everything_503_and_back(client, fake):
    fake.down = True
    with pytest.raises(ReplicateError) as exc:
        create(client)
    assert exc.value.status == 503
    fake.down = False
    assert create(client).status == "starting"


# --------------------------------------------------------------------------- scripted faults


def test_create_429_with_retry_after_is_not_retried_by_the_client(client, fake):
    fake.script("create", [throttled(retry_after=30)])
    with pytest.raises(ReplicateError) as exc:
        create(client)
    assert exc.value.status == 429
    assert exc.value.detail == THROTTLE_DETAIL
    assert fake.create_count() == 1 and fake.create_count(accepted=False) == 1
    assert fake.predictions == {}
    assert create(client).status == "starting"  # one-shot: consumed
    assert fake.create_count(accepted=True) == 1


def test_429_headers_with_and_without_retry_after(fake):
    fake.script("create", [throttled(retry_after=7), 429])
    url = fake.api_url + f"/models/{FLUX}/predictions"
    auth = {"Authorization": "Bearer t"}
    first = httpx.post(url, json={"input": {}}, headers=auth)
    assert first.status_code == 429 and first.headers["retry-after"] == "7"
    assert first.json()["detail"] == THROTTLE_DETAIL
    second = httpx.post(url, json={"input": {}}, headers=auth)
    assert second.status_code == 429 and "retry-after" not in second.headers
    assert second.json()["detail"] == THROTTLE_DETAIL


def test_get_429_is_retried_by_the_client_honouring_retry_after(client, fake):
    p = create(client)
    fake.script("get", [throttled(retry_after=1)])
    gets_before = fake.gets
    start = time.monotonic()
    assert client.predictions.get(p.id).id == p.id
    assert time.monotonic() - start >= 0.95
    assert fake.gets - gets_before == 2


def test_get_503_is_retried_by_the_client(client, fake):
    p = create(client)
    fake.script("get", [503, 503])
    assert client.predictions.get(p.id).id == p.id
    assert fake.pending_script() == 0


@pytest.mark.parametrize(
    ("status", "detail"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"),
     (402, "Insufficient credit"), (422, "Input validation failed")],
)  # fmt: skip
def test_create_error_statuses_raise_replicate_error(client, fake, status, detail):
    fake.script("create", status)
    with pytest.raises(ReplicateError) as exc:
        create(client)
    assert exc.value.status == status
    assert detail in (exc.value.title or "") + (exc.value.detail or "")
    assert fake.creates[-1]["status"] == status and fake.creates[-1]["prediction_id"] is None


def test_error_helper_with_custom_detail(client, fake):
    fake.script("create", error(422, "- input.duration: must be one of 5, 10"), model=KLING)
    with pytest.raises(ReplicateError) as exc:
        create(client, KLING, input={"prompt": "x", "duration": 7})
    assert exc.value.status == 422 and "duration" in exc.value.detail


def test_hang_then_cancel(client, fake):
    fake.script("create", "hang")
    p = create(client)
    time.sleep(LATENCY * 2)
    assert client.predictions.get(p.id).status == "processing"
    canceled = client.predictions.cancel(p.id)
    assert canceled.status == "canceled"
    assert client.predictions.get(p.id).status == "canceled"
    assert fake.cancels == [p.id]


def test_cancel_of_finished_prediction_keeps_its_status(client, fake):
    p = create(client, wait=5)
    assert client.predictions.cancel(p.id).status == "succeeded"
    assert fake.cancels == [p.id]


def test_cancel_after_header_is_recorded_and_honoured(fake):
    auth = {"Authorization": "Bearer t"}
    url = fake.api_url + f"/models/{KLING}/predictions"
    fake.script("create", ["hang", "hang"])
    fake.latency = 3  # starting phase 1 s
    late = httpx.post(url, json={"input": {}}, headers={**auth, "Cancel-After": "2s"}).json()
    early = httpx.post(url, json={"input": {}}, headers={**auth, "Cancel-After": "500ms"}).json()
    assert fake.cancel_after(late["id"]) == "2s" and fake.creates[0]["cancel_after"] == "2s"
    fake.advance(2.5)
    assert fake.prediction(late["id"])["status"] == "canceled"  # deadline while running
    assert fake.prediction(early["id"])["status"] == "aborted"  # deadline before start


def test_fail_sets_error(client, fake):
    fake.latency = 0.05
    fake.script("create", {"behaviour": "fail", "error": "CUDA out of memory"})
    p = wait_terminal(client, create(client).id)
    assert p.status == "failed" and p.error == "CUDA out of memory" and p.output is None


def test_aborted_status_is_served(client, fake):
    fake.script("create", "aborted")
    p = create(client)
    time.sleep(LATENCY + 0.05)
    r = httpx.get(fake.api_url + f"/predictions/{p.id}", headers={"Authorization": "Bearer t"})
    assert r.json()["status"] == "aborted" and r.json()["started_at"] is None
    with pytest.raises(ValueError):  # the 1.0 client cannot parse "aborted"
        client.predictions.get(p.id)


def test_malformed_and_non_media_outputs(client, fake):
    fake.latency = 0.05
    fake.script("create", ["malformed_output", "non_media_output", {"behaviour": "succeed", "output": 42}])
    weird = wait_terminal(client, create(client).id)
    assert weird.status == "succeeded" and weird.output == {"weird": 1}
    text = wait_terminal(client, create(client).id)
    r = httpx.get(text.output[0])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert wait_terminal(client, create(client).id).output == 42


def test_drop_and_reset_on_create(client, fake):
    fake.script("create", ["drop", "reset"])
    with pytest.raises(httpx.TransportError):
        create(client)
    with pytest.raises(httpx.TransportError):
        create(client)
    assert fake.create_count(accepted=False) == 2 and fake.predictions == {}
    assert create(client).status == "starting"


def test_slow_create_times_out_caller_but_prediction_exists(fake):
    fake.script("create", slow(0.6))
    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            fake.api_url + f"/models/{FLUX}/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Authorization": "Bearer t"},
            timeout=0.2,
        )
    assert len(fake.predictions) == 1  # the dangerous duplicate-on-retry case
    assert fake.creates[-1]["status"] == 202


def test_client_create_without_wait_ignores_client_timeout(fake):
    """Pins a replicate 1.0.7 quirk: create() without ``wait`` sends ``timeout=None`` to httpx,
    which disables timeouts, so ``Client(timeout=...)`` does not bound a slow create."""
    fake.script("create", slow(0.6))
    impatient = replicate.Client(api_token="test", base_url=fake.base_url, timeout=httpx.Timeout(0.2))
    start = time.monotonic()
    assert create(impatient).status == "starting"
    assert time.monotonic() - start >= 0.55


def test_faults_are_scoped_per_model_and_route(client, fake):
    fake.script("create", 500, model=KLING)
    assert create(client).status == "starting"  # flux untouched
    with pytest.raises(ReplicateError):
        create(client, KLING, input={"prompt": "x"})
    p = create(client)
    fake.always("get", 500, model=FLUX)
    with pytest.raises(ReplicateError) as exc:
        client.predictions.get(p.id)
    assert exc.value.status == 500
    assert client.predictions.cancel(p.id).id == p.id  # cancel route unaffected
    fake.clear_faults()
    assert client.predictions.get(p.id).id == p.id


def test_always_behaviour_and_file_faults(client, fake):
    fake.latency = 0.05
    fake.always("create", "fail", model=WAN)
    for _ in range(2):
        assert wait_terminal(client, create(client, WAN, input={"prompt": "x"}).id).status == "failed"
    p = wait_terminal(client, create(client).id)
    fake.script("file", [404])
    assert httpx.get(p.output[0]).status_code == 404
    assert httpx.get(p.output[0]).status_code == 200


def test_unknown_prediction_is_404(client):
    with pytest.raises(ReplicateError) as exc:
        client.predictions.get("nope")
    assert exc.value.status == 404


def test_script_rejects_nonsense(fake):
    with pytest.raises(ValueError):
        fake.script("create", ["explode"])
    with pytest.raises(ValueError):
        fake.script("get", ["fail"])
    with pytest.raises(ValueError):
        fake.script("nowhere", [500])


# --------------------------------------------------------------------------- counters


def test_create_count_by_model_and_input(client, fake):
    create(client, input={"prompt": "scene 1", "seed": 1})
    create(client, input={"prompt": "scene 2", "seed": 1})
    create(client, input={"prompt": "scene 1", "seed": 2})
    create(client, KLING, input={"prompt": "scene 1", "duration": 5})
    assert fake.create_count() == 4
    assert fake.create_count(FLUX) == 3
    assert fake.create_count(input_match={"prompt": "scene 1"}) == 3
    assert fake.create_count(FLUX, {"prompt": "scene 1", "seed": 2}) == 1
    assert fake.create_count(input_match=lambda i: i.get("seed") == 1) == 2
    assert fake.creates[0]["headers"]["User-Agent"].startswith("replicate-python/")


def test_reset_clears_state_and_knobs(client, fake):
    create(client, KLING, input={"prompt": "x"})
    fake.latency = 99
    fake.script("create", [500])
    fake.always("get", 503)
    fake.down = True
    fake.reset()
    assert fake.latency == LATENCY and fake.creates == [] and fake.predictions == {}
    assert fake.pending_script() == 0 and fake.gets == 0 and fake.cancels == []
    assert create(client).status == "starting"


# --------------------------------------------------------------------------- webhooks


def test_webhook_delivered_signed_and_valid(client, fake, receiver):
    p = create(client, webhook=receiver.url, webhook_events_filter=["completed"])
    assert wait_for(lambda: receiver.received), "webhook not delivered"
    got = receiver.received[0]
    assert json.loads(got["body"])["id"] == p.id
    assert json.loads(got["body"])["status"] == "succeeded"
    secret = WebhookSigningSecret(key=fake.webhook_secret)
    assert client.webhooks.validate(headers=got["headers"], body=got["body"], secret=secret, tolerance=300) is None
    headers = {k.lower(): v for k, v in got["headers"].items()}
    assert headers["webhook-signature"] == sign(
        headers["webhook-id"], headers["webhook-timestamp"], got["body"], fake.webhook_secret
    )
    with pytest.raises(InvalidSignatureError):
        client.webhooks.validate(
            headers=got["headers"], body=got["body"], secret=WebhookSigningSecret(key=VECTOR["key"])
        )
    assert fake.creates[-1]["webhook"] == receiver.url
    assert len(receiver.received) == 1  # no polling needed, exactly one terminal delivery
    assert client.webhooks.default.secret().key == fake.webhook_secret


def test_webhook_retried_on_receiver_error_and_resend(client, fake, receiver):
    fake.webhook_retry_delay = 0.05
    receiver.codes = [500]
    fake.script("create", "fail")
    p = create(client, webhook=receiver.url)
    assert wait_for(lambda: len(receiver.received) == 2)
    bodies = [json.loads(r["body"]) for r in receiver.received]
    assert [b["status"] for b in bodies] == ["failed", "failed"]
    assert [w["http_status"] for w in fake.webhooks] == [500, 200]
    fake.resend_webhook(p.id)
    assert wait_for(lambda: len(receiver.received) == 3)


def test_cancel_triggers_webhook(client, fake, receiver):
    fake.script("create", "hang")
    p = create(client, webhook=receiver.url)
    client.predictions.cancel(p.id)
    assert wait_for(lambda: receiver.received)
    assert json.loads(receiver.received[0]["body"])["status"] == "canceled"


# --------------------------------------------------------------------------- standalone


def test_runs_standalone():
    script = Path(__file__).resolve().parent / "fake_replicate.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--latency", "0.1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        base_url = line.split()[3]
        c = replicate.Client(api_token="test", base_url=base_url)
        p = c.models.predictions.create(model=FLUX, input={"prompt": "x"}, wait=5)
        assert p.status == "succeeded"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
