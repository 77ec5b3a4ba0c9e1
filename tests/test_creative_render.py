"""On screen and in the ear with the Replicate provider against the fake server (tasks inline):
voiceover lines are TTS predictions recorded and booked like any other, clips are requested at scene
length plus the crossfade, and the product scene's i2v input carries the client's product."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import pytest
from PIL import Image

from tests.factories import SceneFactory, VideoJobFactory, stored_image_asset
from tests.helpers import using_fake_replicate
from tests.jobs import generate_body
from videogen.models import CostEntry, JobStatus, Prediction, VideoJob
from videogen.pipeline.creative import voiceover_lines
from videogen.pricing import VOICEOVER_LINE_PRICE
from videogen.providers.replicate import wan_frames

pytestmark = pytest.mark.django_db

FLUX = "black-forest-labs/flux-schnell"
WAN = "wavespeedai/wan-2.1-i2v-480p"
KOKORO = "jaaari/kokoro-82m"
KOKORO_VERSION = "f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"
NARRATION = ["Before the city wakes, you lace up.", "Every street becomes your track.", "Built to go the distance."]


@pytest.fixture
def fake(fake_server, settings, tasks):
    fake_server.reset()
    fake_server.versions[KOKORO_VERSION] = KOKORO
    with using_fake_replicate(settings, fake_server, REPLICATE_STORYBOARD_MODEL=FLUX, REPLICATE_VIDEO_MODEL=WAN,
                              REPLICATE_TTS_MODEL=f"{KOKORO}:{KOKORO_VERSION}", PROVIDER_BACKOFF_SCALE=0.02,
                              PROVIDER_POLL_INTERVAL=0.02):
        yield fake_server
    assert fake_server.server_errors == []


def rendered(api, tenant, tasks, **overrides) -> VideoJob:
    response = api.post("/api/v2/generate", generate_body(tenant, duration=15, **overrides), format="json")
    assert response.status_code == 202, response.json()
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE, job.error
    for scene, line in zip(job.scenes.order_by("number"), NARRATION, strict=False):
        scene.narration = line
        scene.save(update_fields=["narration"])
    assert api.post(f"/api/v2/jobs/{job.pk}/render").status_code == 202
    tasks.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    return job


def test_each_voiceover_line_is_one_recorded_and_booked_tts_prediction_of_the_pinned_version(
    api, tenant, tasks, fake
):
    job = rendered(api, tenant, tasks, audioControls={"voiceover": {"enabled": True}})

    lines = Prediction.objects.filter(job=job, purpose=Prediction.Purpose.VOICEOVER)
    assert lines.count() == 4  # three scenes' narration and the CTA
    assert fake.create_count(KOKORO) == 4
    for text in [*NARRATION, tenant.campaign.cta]:
        assert fake.create_count(KOKORO, {"text": text, "voice": "am_michael", "speed": 1.0}) == 1
    booked = CostEntry.objects.filter(job=job, kind=CostEntry.Kind.VOICEOVER)
    assert sorted(booked.values_list("amount", flat=True)) == [VOICEOVER_LINE_PRICE] * 4
    assert job.voiceover["seconds"] > 2 and job.voiceover["script"].startswith(NARRATION[0])
    assert api.get(f"/api/v2/jobs/{job.pk}").json()["voiceover"]["seconds"] == job.voiceover["seconds"]


def test_a_voiceover_line_that_fails_for_good_leaves_the_video_without_it_and_says_why(api, tenant, tasks, fake):
    fake.always("create", "fail", model=KOKORO)
    job = rendered(api, tenant, tasks, audioControls={"voiceover": {"enabled": True, "script": "Own the city."}})

    variation = job.variations.get()
    assert variation.video.name
    assert "could not be spoken" in variation.export_errors["voiceover"]
    assert not CostEntry.objects.filter(job=job, kind=CostEntry.Kind.VOICEOVER).exists()


def test_clips_are_requested_at_scene_length_plus_the_crossfade(api, tenant, tasks, fake):
    job = rendered(api, tenant, tasks)

    # 15 s: the end card takes 2 s, three scenes share 13 s, each clip runs 0.5 s into its crossfade.
    frames, fps = wan_frames((104 + 12) / 24)
    assert fake.create_count(WAN, {"num_frames": frames, "frames_per_second": fps}) == 3
    assert frames / fps > 13 / 3 + 0.4
    clip_costs = CostEntry.objects.filter(job=job, kind=CostEntry.Kind.VIDEO).values_list("amount", flat=True)
    assert list(clip_costs) == [Decimal("0.4833")] * 3


def _green_share(data_uri: str) -> float:
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as image:
        pixels = image.convert("RGB").resize((54, 96)).getdata()
        return sum(1 for r, g, b in pixels if g > 200 and r < 60 and b < 60) / len(pixels)


def test_the_product_scene_animates_the_frame_with_the_clients_product(api, tenant, tasks, fake):
    product = stored_image_asset(tenant.client, size=(300, 300), colour=(0, 255, 0), role="product")
    rendered(api, tenant, tasks, assets=[{"id": str(product.id), "role": "product"}])

    images = {entry["input"]["seed"] % 1000 % 101: entry["input"]["image"] for entry in fake.creates
              if entry["model"] == WAN}
    shares = {scene: _green_share(uri) for scene, uri in images.items()}
    # Without a planner-marked product scene, the second-to-last scene (2 of 3) shows the product.
    assert shares[2] > 0.05
    assert shares[1] == 0 and shares[3] == 0


def test_the_cta_is_spoken_once_when_the_cta_scene_already_says_it(tenant):
    job = VideoJobFactory(campaign=tenant.campaign, voiceover={"enabled": True, "voice": "", "script": "",
                                                               "seconds": None})
    first = SceneFactory(job=job, number=1, narration="Lace up at dawn.")
    closing = SceneFactory(job=job, number=2, narration=f"{tenant.campaign.cta}.")
    spoken = [line.text for line in voiceover_lines(job, [first, closing])]
    assert spoken == ["Lace up at dawn.", f"{tenant.campaign.cta}."]
    closing.narration = "Run with your crew."
    spoken = [line.text for line in voiceover_lines(job, [first, closing])]
    assert spoken[-1] == tenant.campaign.cta
