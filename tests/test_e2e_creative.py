"""End to end with a real django-q2 worker: what the marketer asked for is in the finished MP4.

Two jobs from the same brief, so their storyboards and clips are the same pictures: job A with
captions, a voiceover and the client's product; job B with none of them. The MP4s are decoded and
measured with FFmpeg: captions change only the caption box, the product shows in the product scene,
the voice is louder than the music bed alone, the end card has its own seconds, durations are exact,
and variation 2 differs visibly from variation 1."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory, stored_image_asset
from tests.workers import wait_for
from videogen.media.ffmpeg import ffmpeg_exe, probe, run_ffmpeg
from videogen.media.layout import safe_zone
from videogen.media.overlays import product_box, render_caption
from videogen.models import JobStatus, VideoJob
from videogen.pipeline.creative import product_scene_numbers, render_timeline

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SIZE = (1080, 1920)
CAPTIONS = ["Lace up at dawn", "The city is your track", "Run with your crew"]
NARRATION = ["Before the city wakes, you lace up.", "Every street becomes your track.", "Run it together."]


def frame(video: Path, seconds: float, folder: Path) -> Image.Image:
    out = folder / f"{video.parent.name}-{video.stem}-{seconds:.2f}.png"
    run_ffmpeg(["-ss", f"{seconds:.3f}", "-i", str(video), "-frames:v", "1", "-update", "1", str(out)], timeout=60)
    with Image.open(out) as image:
        return image.convert("RGB")


def mean_diff(a: Image.Image, b: Image.Image, box=None, *, outside: bool = False, step: int = 6) -> float:
    total = count = 0
    for y in range(0, a.height, step):
        for x in range(0, a.width, step):
            inside = box is None or (box.x0 <= x < box.x1 and box.y0 <= y < box.y1)
            if box is not None and inside == outside:
                continue
            total += sum(abs(i - j) for i, j in zip(a.getpixel((x, y)), b.getpixel((x, y)), strict=True))
            count += 3
    return total / max(1, count)


def green_share(image: Image.Image, box) -> float:
    pixels = image.crop((box.x0, box.y0, box.x1, box.y1)).resize((60, 60)).getdata()
    return sum(1 for r, g, b in pixels if g > 180 and r < 90 and b < 90) / len(pixels)


def mean_volume_db(video: Path, start: float, seconds: float) -> float:
    proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}",
                           "-i", str(video), "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=60, check=True)
    return float(re.search(r"mean_volume: (-?[\d.]+) dB", proc.stderr).group(1))


def test_captions_voiceover_and_product_reach_the_finished_video(qcluster, settings, tmp_path, bearer_client):
    settings.VIDEOGEN_PROVIDER = "local"
    cluster = qcluster()
    user, client = UserFactory(), ClientFactory(color_palette=["#1B1F3B", "#FF6B35", "#F7F7F2"])
    MembershipFactory(user=user, client=client)
    campaign = CampaignFactory(client=client)
    product = stored_image_asset(client, size=(400, 300), colour=(0, 255, 0), role="product")
    api = bearer_client(user)
    brief = {"campaignId": str(campaign.id), "clientId": str(client.id), "videoName": "E2E creative",
             "creativePrompt": "A runner at dawn, then the shoe close-up, then the finish line crowd",
             "duration": 15, "platform": "tiktok"}
    full = api.post("/api/v2/generate", {**brief, "numberOfVariations": 2, "captions": True,
                                         "assets": [{"id": str(product.id), "role": "product"}],
                                         "audioControls": {"voiceover": {"enabled": True}}}, format="json")
    bare = api.post("/api/v2/generate", {**brief, "captions": False}, format="json")
    assert full.status_code == bare.status_code == 202
    job_ids = [full.json()["job_id"], bare.json()["job_id"]]

    def all_in(wanted: set[str]) -> bool:
        return set(VideoJob.objects.filter(pk__in=job_ids).values_list("status", flat=True)) <= wanted

    wait_for(lambda: all_in({"storyboard_complete"}), timeout=300, cluster=cluster, what="both storyboards")
    job = VideoJob.objects.get(pk=job_ids[0])
    for scene, caption, line in zip(job.scenes.order_by("number"), CAPTIONS, NARRATION, strict=True):
        scene.caption, scene.narration = caption, line  # the planner's copy, edited before the render
        scene.save(update_fields=["caption", "narration"])
    for job_id in job_ids:
        assert api.post(f"/api/v2/jobs/{job_id}/render").status_code == 202
    wait_for(lambda: all_in({"completed", "partially_completed", "failed"}), timeout=1200, cluster=cluster,
             what="both renders")
    job, plain = VideoJob.objects.get(pk=job_ids[0]), VideoJob.objects.get(pk=job_ids[1])
    assert job.status == plain.status == JobStatus.COMPLETED, (job.error, plain.error)

    first, second = (Path(default_storage.path(v.video.name)) for v in job.variations.order_by("index"))
    bare_video = Path(default_storage.path(plain.variations.get().video.name))
    for video in (first, second, bare_video):
        assert probe(video).duration == pytest.approx(15.0, abs=0.05)  # the job's duration, exactly

    scenes = list(job.scenes.order_by("number"))
    timeline = render_timeline(job, scenes)
    zone = safe_zone("tiktok", "9:16", SIZE)

    # Captions: scene 1 differs from the caption-less video inside its caption box only.
    t1 = timeline.scene_start(0) + timeline.scene_seconds[0] * 0.6
    box = render_caption(CAPTIONS[0], tmp_path / "caption.png", size=SIZE, zone=zone,
                         palette=client.color_palette).box
    with_caption, without = frame(first, t1, tmp_path), frame(bare_video, t1, tmp_path)
    assert mean_diff(with_caption, without, box) > 30
    assert mean_diff(with_caption, without, box, outside=True) < 3

    # The product: the product scene (the planner's, else the second-to-last) shows it inside the safe
    # zone; the bare video does not.
    shown = [index for index, scene in enumerate(scenes) if scene.number in product_scene_numbers(scenes)][0]
    t2 = timeline.scene_start(shown) + timeline.scene_seconds[shown] * 0.5
    where = product_box(zone)
    assert green_share(frame(first, t2, tmp_path), where) > 0.1
    assert green_share(frame(bare_video, t2, tmp_path), where) == 0

    # The voice: louder where it speaks than the music bed alone at the same moment.
    assert job.voiceover["seconds"] > 2 and job.voiceover["script"].startswith(NARRATION[0])
    assert mean_volume_db(first, 0.5, 1.2) > mean_volume_db(bare_video, 0.5, 1.2) + 3

    # The end card has its own last seconds: the last scene is still on screen just before it.
    before_card, on_card = frame(first, timeline.end_card_start - 0.7, tmp_path), frame(first, 14.5, tmp_path)
    assert mean_diff(before_card, on_card) > 15

    # Variation 2 is visibly another cut: other camera moves, another caption plate, another end card.
    assert mean_diff(frame(first, t1, tmp_path), frame(second, t1, tmp_path)) > 4
    assert mean_diff(on_card, frame(second, 14.5, tmp_path)) > 4
