"""ReplicateProvider against the fake Replicate server, through the real `replicate` client:
model inputs, outputs, downloads, and every row of the call-level retry table (videogen/providers/retry.py)."""

from __future__ import annotations

import base64
import io
import logging
import socket
from pathlib import Path

import pytest
from PIL import Image

from tests.fake_replicate import error, slow, throttled
from tests.helpers import using_fake_replicate
from videogen import metrics
from videogen.providers import get_provider, reset_providers, retry
from videogen.providers import replicate as replicate_provider
from videogen.providers.base import ClipSpec, ImageSpec, PredictionResult, ProviderError

pytestmark = pytest.mark.django_db

FLUX = "black-forest-labs/flux-schnell"
FLUX_PRO = "black-forest-labs/flux-pro"
WAN = "wavespeedai/wan-2.1-i2v-480p"
KLING = "kwaivgi/kling-v2.1"


@pytest.fixture
def fake(fake_server, settings):
    fake_server.reset()
    with using_fake_replicate(settings, fake_server, REPLICATE_VIDEO_MODEL=WAN, REPLICATE_WEBHOOK_SECRET="",
                              PROVIDER_BACKOFF_SCALE=1.0):
        yield fake_server
    assert fake_server.server_errors == []


@pytest.fixture
def waits(monkeypatch):
    """Backoff sleeps are recorded, not slept: the schedule is asserted exactly."""
    slept: list[float] = []
    monkeypatch.setattr(retry, "sleep", slept.append)
    return slept


@pytest.fixture
def provider(fake):
    return get_provider("replicate")


def image_spec(**overrides) -> ImageSpec:
    fields = {"prompt": "a red sneaker on wet asphalt", "negative_prompt": "blurry, text", "aspect_ratio": "9:16",
              "width": 1080, "height": 1920, "seed": 1234}
    return ImageSpec(**{**fields, **overrides})


def clip_spec(image_path: Path, **overrides) -> ClipSpec:
    fields = {"image_path": str(image_path), "prompt": "slow push in", "negative_prompt": "jitter",
              "duration_seconds": 5.0, "width": 1080, "height": 1920, "fps": 24, "seed": 77}
    return ClipSpec(**{**fields, **overrides})


def png(path: Path, size=(64, 64)) -> Path:
    Image.new("RGB", size, (200, 40, 40)).save(path, "PNG")
    return path


def errors_counted(kind: str) -> float:
    return metrics.REPLICATE_API_ERRORS_TOTAL.labels(kind=kind)._value.get()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Inputs per model family ----------------------------------------------------------------------


def test_flux_schnell_gets_prompt_aspect_seed_one_png_and_go_fast(provider, fake):
    provider.create_image(image_spec())

    assert fake.creates[0]["model"] == FLUX
    assert fake.creates[0]["input"] == {"prompt": "a red sneaker on wet asphalt", "aspect_ratio": "9:16",
                                        "num_outputs": 1, "output_format": "png", "seed": 1234, "go_fast": True}


def test_an_hd_image_uses_the_flux_pro_model_with_its_own_inputs(provider, fake):
    provider.create_image(image_spec(hd=True, aspect_ratio="1:1"))

    create = fake.creates[0]
    assert create["model"] == FLUX_PRO
    assert create["input"]["aspect_ratio"] == "1:1"
    assert create["input"]["seed"] == 1234
    assert "num_outputs" not in create["input"] and "go_fast" not in create["input"]


def test_an_unsupported_aspect_is_sent_as_the_nearest_one_the_model_knows(provider, fake):
    provider.create_image(image_spec(aspect_ratio="", width=1080, height=1350))

    assert fake.creates[0]["input"]["aspect_ratio"] == "4:5"


def test_a_generic_image_model_gets_the_negative_prompt(provider, fake, settings):
    settings.REPLICATE_STORYBOARD_MODEL = "stability-ai/sdxl"
    provider.create_image(image_spec())

    assert fake.creates[0]["input"]["negative_prompt"] == "blurry, text"


def test_wan_gets_the_image_as_a_data_uri_and_frames_covering_the_scene(provider, fake, tmp_path):
    provider.create_clip(clip_spec(png(tmp_path / "scene.png"), duration_seconds=5.0))

    create = fake.creates[0]
    assert create["model"] == WAN
    assert create["input"]["image"].startswith("data:image/png;base64,")
    assert create["media"]["image"]["valid"] is True
    assert (create["input"]["num_frames"], create["input"]["frames_per_second"]) == (80, 16)
    assert create["input"]["seed"] == 77
    assert "negative_prompt" not in create["input"]


@pytest.mark.parametrize(("seconds", "frames", "fps"), [(10.0, 100, 10), (0.2, 5, 16), (40.0, 100, 5)])
def test_wan_frames_stay_within_5_to_100_at_5_to_24_fps(seconds, frames, fps):
    assert replicate_provider.wan_frames(seconds) == (frames, fps)


def test_kling_gets_start_image_negative_prompt_and_5_or_10_seconds(provider, fake, settings, tmp_path):
    settings.REPLICATE_VIDEO_MODEL = KLING
    image = png(tmp_path / "scene.png")
    provider.create_clip(clip_spec(image, duration_seconds=5.0))
    provider.create_clip(clip_spec(image, duration_seconds=9.0))

    first, second = (create["input"] for create in fake.creates)
    assert first["start_image"].startswith("data:image/png;base64,")
    assert (first["negative_prompt"], first["mode"]) == ("jitter", "standard")
    assert (first["duration"], second["duration"]) == (5, 10)


def test_large_input_images_are_downscaled_before_sending(provider, fake, tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (3000, 2000), (10, 120, 200)).save(big, "PNG")

    provider.create_clip(clip_spec(big))

    uri = fake.creates[0]["input"]["image"]
    assert uri.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as sent:
        assert max(sent.size) == 1280


def test_creates_carry_cancel_after_a_little_above_the_prd_timeouts(provider, fake, tmp_path):
    provider.create_image(image_spec())
    provider.create_clip(clip_spec(png(tmp_path / "scene.png")))

    assert [create["cancel_after"] for create in fake.creates] == ["150s", "750s"]


def test_a_webhook_is_requested_only_when_public_url_and_secret_are_set(provider, fake, settings):
    provider.create_image(image_spec())
    settings.PUBLIC_BASE_URL = "https://videogen.example"
    provider.create_image(image_spec())
    settings.REPLICATE_WEBHOOK_SECRET = "whsec_c2VjcmV0"
    provider.create_image(image_spec())

    assert [create["webhook"] for create in fake.creates] == [
        None, None, "https://videogen.example/api/v2/webhooks/replicate"
    ]
    assert fake.creates[2]["webhook_events_filter"] == ["completed"]


def test_creates_do_not_hold_the_request_open(provider, fake):
    result = provider.create_image(image_spec())

    assert fake.creates[0]["prefer"] is None
    assert result.status == "starting" and result.external_id


# --- Outputs ------------------------------------------------------------------------------------


def finished(provider, fake, result: PredictionResult) -> PredictionResult:
    fake.advance(5)
    return provider.get(result.external_id)


def test_a_list_output_gives_its_first_url_and_downloads_as_an_image(provider, fake, tmp_path):
    done = finished(provider, fake, provider.create_image(image_spec()))

    assert done.status == "succeeded"
    path = provider.download(done, tmp_path / "out" / "scene_1")
    assert path.suffix == ".png"
    with Image.open(path) as image:
        assert image.size[1] > image.size[0]


def test_a_single_url_output_downloads_as_a_video(provider, fake, tmp_path):
    done = finished(provider, fake, provider.create_clip(clip_spec(png(tmp_path / "s.png"))))

    path = provider.download(done, tmp_path / "clip")
    assert path.suffix == ".mp4"
    assert path.read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("behaviour", ["malformed_output", "empty_output"])
def test_an_output_that_is_not_a_url_is_a_failed_prediction(provider, fake, behaviour):
    fake.script("create", behaviour)

    done = finished(provider, fake, provider.create_image(image_spec()))

    assert done.status == "failed"
    assert "malformed output" in done.error


def test_an_aborted_prediction_is_failed(provider, fake):
    fake.script("create", "aborted")

    done = finished(provider, fake, provider.create_image(image_spec()))

    assert done.status == "failed"
    assert "aborted" in done.error


def test_a_failed_prediction_keeps_the_providers_error(provider, fake):
    fake.script("create", {"behaviour": "fail", "error": "CUDA out of memory"})

    done = finished(provider, fake, provider.create_image(image_spec()))

    assert (done.status, done.error) == ("failed", "CUDA out of memory")


def test_downloads_stop_at_the_size_cap(provider, fake, tmp_path, monkeypatch):
    monkeypatch.setattr(replicate_provider, "MAX_DOWNLOAD_BYTES", 100)
    done = finished(provider, fake, provider.create_image(image_spec()))

    with pytest.raises(ProviderError, match="too large|larger than"):
        provider.download(done, tmp_path / "scene")


def test_cancel_reaches_the_provider(provider, fake):
    result = provider.create_image(image_spec())

    provider.cancel(result.external_id)

    assert fake.cancels == [result.external_id]
    assert fake.prediction(result.external_id)["status"] == "canceled"


# --- The call-level retry table (videogen/providers/retry.py) -------------------------------------


def test_429_with_retry_after_is_honoured(provider, fake, waits):
    fake.script("create", [throttled(retry_after=7), throttled(retry_after=3)])

    result = provider.create_image(image_spec())

    assert result.status == "starting"
    assert waits == [7.0, 3.0]
    assert fake.create_count(accepted=True) == 1


def test_429_is_retried_at_most_twice(provider, fake, waits):
    fake.script("create", [throttled(retry_after=1)] * 3)

    with pytest.raises(ProviderError) as failure:
        provider.create_image(image_spec())

    assert failure.value.retryable and failure.value.status == 429
    assert fake.create_count() == 3
    assert waits == [1.0, 1.0]


def test_429_without_retry_after_backs_off_on_the_prd_schedule(provider, fake, waits):
    fake.script("get", [throttled(), throttled()])
    created = provider.create_image(image_spec())

    provider.get(created.external_id)

    assert waits == [5.0, 15.0]
    assert fake.gets == 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_back_off_5_15_45_then_fail(provider, fake, waits, status):
    fake.always("create", status)

    with pytest.raises(ProviderError) as failure:
        provider.create_image(image_spec())

    assert failure.value.retryable and failure.value.status == status
    assert waits == [5.0, 15.0, 45.0]
    assert fake.create_count() == 4


def test_backoff_is_scaled_by_provider_backoff_scale(provider, fake, waits, settings):
    settings.PROVIDER_BACKOFF_SCALE = 0.1
    fake.script("create", [error(500), error(500)])

    provider.create_image(image_spec())

    assert waits == pytest.approx([0.5, 1.5])


def test_the_clients_own_get_retries_do_not_multiply_ours(provider, fake, waits):
    created = provider.create_image(image_spec())
    fake.always("get", 503)

    with pytest.raises(ProviderError):
        provider.get(created.external_id)

    assert fake.gets == 4  # 1 + our 3 retries; the client alone would have made 10


def test_a_dropped_connection_is_retried_once_immediately(provider, fake, waits):
    created = provider.create_image(image_spec())
    fake.script("get", ["drop"])

    result = provider.get(created.external_id)

    assert result.external_id == created.external_id
    assert waits == [0.0]
    assert fake.gets == 2


def test_network_errors_retry_once_immediately_then_back_off_then_fail(provider, settings, waits):
    settings.REPLICATE_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    reset_providers()

    with pytest.raises(ProviderError) as failure:
        get_provider("replicate").create_image(image_spec())  # refused: it never left, safe to resend

    assert failure.value.retryable
    assert waits == [0.0, 5.0, 15.0, 45.0]


def test_a_create_whose_answer_was_lost_is_not_sent_again(provider, fake, waits, monkeypatch):
    """It may have been created: a blind resend could pay twice; the pipeline retries after backoff."""
    monkeypatch.setitem(replicate_provider.API_TIMEOUT, "read", 0.3)
    fake.script("create", slow(1.0))

    with pytest.raises(ProviderError) as failure:
        provider.create_image(image_spec())

    assert failure.value.retryable
    assert fake.create_count() == 1
    assert waits == []


def test_our_timeout_bounds_every_call(provider, fake, waits, monkeypatch):
    monkeypatch.setitem(replicate_provider.API_TIMEOUT, "read", 0.3)
    created = provider.create_image(image_spec())
    fake.script("get", [slow(1.0), slow(1.0)])

    result = provider.get(created.external_id)  # a get is safe to repeat: read timeouts are retried

    assert result.external_id == created.external_id
    assert waits == [0.0, 5.0]


@pytest.mark.parametrize(("status", "title"), [(402, "Insufficient credit"), (422, "Input validation failed")])
def test_402_and_422_are_not_retried(provider, fake, waits, status, title):
    fake.script("create", status)

    with pytest.raises(ProviderError) as failure:
        provider.create_image(image_spec())

    assert (failure.value.retryable, failure.value.status) == (False, status)
    assert title in str(failure.value)
    assert fake.create_count() == 1
    assert waits == []


def test_each_failed_call_is_counted_and_logged_at_warning(provider, fake, waits, caplog):
    throttled_before, server_before = errors_counted("throttled"), errors_counted("server_error")
    fake.script("create", [throttled(), error(502)])

    with caplog.at_level(logging.WARNING, logger="videogen.providers.retry"):
        provider.create_image(image_spec())

    assert errors_counted("throttled") - throttled_before == 1
    assert errors_counted("server_error") - server_before == 1
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING"]
    assert "429" in caplog.records[0].getMessage() and "502" in caplog.records[1].getMessage()


def test_retrying_stops_once_the_circuit_is_open(provider, fake, waits, monkeypatch):
    from videogen.providers import circuit
    from videogen.providers.base import ProviderUnavailable

    fake.always("create", 500)
    monkeypatch.setattr(circuit, "current_state", lambda: circuit.CircuitState("open", 240))

    with pytest.raises(ProviderUnavailable):
        provider.create_image(image_spec())

    assert fake.create_count() == 1
