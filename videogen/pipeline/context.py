"""What a job's pipeline needs to know about its client and campaign."""

from __future__ import annotations

from videogen.media.frames import platform_frame_size
from videogen.models import VideoJob
from videogen.prompts import BrandContext


def brand_context(job: VideoJob) -> BrandContext:
    client, campaign = job.client, job.campaign
    return BrandContext(
        brand_name=client.name,
        brand_voice=client.brand_voice,
        visual_style=client.visual_style,
        palette=list(client.color_palette or []),
        forbidden_elements=list(client.forbidden_elements or []),
        objective=campaign.objective,
        key_messages=list(campaign.key_messages or []),
        cta=campaign.cta,
        do_not_mention=list(campaign.do_not_mention or []),
        keywords=list(job.keywords or []),
        style_presets=list(job.style_presets or []),
    )


def frame_size(job: VideoJob) -> tuple[int, int]:
    return platform_frame_size(job.platform, job.aspect_ratio)


def scene_seed(job_id: int, scene_number: int, scene_run: int) -> int:
    """Stable for a scene within a run (the cache can hit); new on refine (a visibly new image).

    `job_id` is deliberately left out: the same scene prompt in a repeat job must get the same
    seed, or the 24 h scene image cache (keyed by model, prompt, aspect and seed) never hits.
    """
    return (scene_number * 17 + scene_run * 7_919) % 2_147_483_647


def variation_seed(job_id: int, index: int, scene_number: int) -> int:
    return (job_id * 1_000 + index * 101 + scene_number) % 2_147_483_647
