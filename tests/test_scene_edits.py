"""The creative fields in the API: `planner` and per-scene `role`, `caption`, `narration` in the job
document, and `POST /jobs/{id}/refine` with `sceneEdits` (text edits without a provider call, a new
description regenerating that scene's image, clear 400s naming the field)."""

from __future__ import annotations

import pytest

from tests.jobs import generate_body, storyboard_complete_job
from videogen.models import JobEvent, JobStatus, Prediction, Scene, VideoJob

pytestmark = pytest.mark.django_db

SNEAKERS = ("A runner laces up new sneakers at dawn, sprints through neon city streets, pauses on a rooftop as the "
            "sun rises, and the shoes glow as the crowd cheers.")


@pytest.fixture
def local(settings):
    settings.VIDEOGEN_PROVIDER = "local"


def refine(api, job, body):
    return api.post(f"/api/v2/jobs/{job.pk}/refine", body, format="json")


def finished_storyboard(api, tenant, tasks) -> VideoJob:
    response = api.post("/api/v2/generate", generate_body(tenant, creativePrompt=SNEAKERS), format="json")
    assert response.status_code == 202
    tasks.drain()
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    assert job.status == JobStatus.STORYBOARD_COMPLETE, job.error
    return job


def scene(job: VideoJob, number: int) -> Scene:
    return Scene.objects.get(job=job, number=number)


# --- The job document ---------------------------------------------------------------------------


def test_the_job_document_shows_the_planner_and_each_scenes_role_caption_and_narration(api, tenant, tasks, local):
    job = finished_storyboard(api, tenant, tasks)

    document = api.get(f"/api/v2/jobs/{job.pk}").json()

    assert document["planner"] == "rules"
    storyboard = document["storyboard"]
    assert [entry["caption"] for entry in storyboard] == [
        "Lace up new sneakers at dawn", "Sprint through neon city streets", "Pause on a rooftop as the sun rises",
        "The shoes glow as the crowd cheers", "Shop now at example.com/sneakers",
    ]
    assert [entry["role"] for entry in storyboard] == ["beat", "beat", "beat", "beat", "cta"]
    assert storyboard[1]["narration"] == "Sprint through neon city streets."


def test_a_job_not_yet_planned_has_no_planner(api, tenant, tasks):
    response = api.post("/api/v2/generate", generate_body(tenant), format="json")

    assert api.get(f"/api/v2/jobs/{response.json()['job_id']}").json()["planner"] is None


# --- Text edits -----------------------------------------------------------------------------------


def test_a_caption_edit_changes_text_only_and_keeps_the_storyboard_finished_but_unapproved(api, tenant, tasks):
    job = storyboard_complete_job(tenant, approved=True)
    before = api.get(f"/api/v2/jobs/{job.pk}")
    image = scene(job, 2).image.name

    response = refine(api, job, {"sceneEdits": [{"sceneNumber": 2, "caption": "Own the night"}]})

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == JobStatus.STORYBOARD_COMPLETE and body["approved"] is False
    assert body["storyboard"][1]["caption"] == "Own the night"
    assert scene(job, 2).image.name == image and scene(job, 2).status == "completed"
    assert tasks.queued == [] and not Prediction.objects.filter(job=job).exists()
    assert response["ETag"] != before["ETag"]
    assert VideoJob.objects.get(pk=job.pk).run == job.run
    assert JobEvent.objects.filter(job=job, kind=JobEvent.REFINE).exists()


def test_a_narration_edit_is_stored_for_the_voiceover(api, tenant, tasks):
    job = storyboard_complete_job(tenant)

    response = refine(api, job, {"sceneEdits": [{"sceneNumber": 3, "narration": "Pause. Breathe. Go again."}]})

    assert response.status_code == 202
    assert scene(job, 3).narration == "Pause. Breathe. Go again."
    assert response.json()["storyboard"][2]["narration"] == "Pause. Breathe. Go again."


def test_a_caption_can_be_cleared(api, tenant, tasks):
    job = storyboard_complete_job(tenant)
    Scene.objects.filter(job=job, number=1).update(caption="Old copy")

    assert refine(api, job, {"sceneEdits": [{"sceneNumber": 1, "caption": ""}]}).status_code == 202
    assert scene(job, 1).caption == ""


def test_text_edits_after_a_partial_render_finish_the_storyboard_again_without_a_provider_call(
    api, tenant, tasks, local
):
    job = storyboard_complete_job(tenant)
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.PARTIALLY_COMPLETED, approved=True)

    response = refine(api, job, {"sceneEdits": [{"sceneNumber": 1, "caption": "Fresh copy"}]})
    tasks.drain()

    assert response.status_code == 202
    job.refresh_from_db()
    assert job.status == JobStatus.STORYBOARD_COMPLETE and not job.approved
    assert scene(job, 1).caption == "Fresh copy"
    assert not Prediction.objects.filter(job=job).exists()


# --- Description edits ------------------------------------------------------------------------------


def test_a_new_description_regenerates_only_that_scenes_image_with_a_prompt_built_from_it(
    api, tenant, tasks, local
):
    job = finished_storyboard(api, tenant, tasks)
    untouched = scene(job, 1).image.name
    Scene.objects.filter(job=job).update(image="")  # the regenerated scene's new image must be its own
    Scene.objects.filter(job=job, number=1).update(image=untouched)

    response = refine(api, job, {"sceneEdits": [
        {"sceneNumber": 2, "description": "The runner crosses a bridge at sunrise", "caption": "Cross over"},
    ]})
    assert response.status_code == 202 and response.json()["status"] == JobStatus.GENERATING_STORYBOARD
    tasks.drain()

    job.refresh_from_db()
    edited = scene(job, 2)
    assert job.status == JobStatus.STORYBOARD_COMPLETE and not job.approved
    assert edited.description == "The runner crosses a bridge at sunrise" and edited.caption == "Cross over"
    assert edited.prompt.startswith("The runner crosses a bridge at sunrise. Soft golden sunrise light.")
    assert "bright colors, high contrast" in edited.prompt
    assert edited.image.name and edited.status == "completed"
    assert scene(job, 1).image.name == untouched
    regenerated = Prediction.objects.filter(job=job, run=job.run, purpose="storyboard")
    assert [p.scene.number for p in regenerated] == [2]


def test_scene_edits_with_scenes_regenerate_the_listed_scenes_too(api, tenant, tasks):
    job = storyboard_complete_job(tenant)

    response = refine(api, job, {"scenes": [3], "sceneEdits": [{"sceneNumber": 1, "caption": "New hook"}]})

    assert response.status_code == 202
    assert [s.status for s in Scene.objects.filter(job=job).order_by("number")] == ["completed", "completed",
                                                                                   "pending"]
    assert scene(job, 1).caption == "New hook"


# --- Refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("edits", "message"), [
    ([{"sceneNumber": 7, "caption": "Hi"}], "Unknown scene 7."),
    ([{"sceneNumber": 1}], "Give a new description, caption or narration."),
    ([{"sceneNumber": 1, "caption": "x" * 61}], "no more than 60 characters"),
    ([{"sceneNumber": 1, "caption": "A"}, {"sceneNumber": 1, "caption": "B"}], "Scene 1 is edited more than once."),
    ([{"sceneNumber": 1, "caption": "Better than previous product lines"}], "previous product lines"),
    ([{"sceneNumber": 2, "narration": " ".join(["word"] * 20)}], "shorten it to about 12 words"),
])
def test_bad_scene_edits_are_400_naming_the_field_and_change_nothing(api, tenant, tasks, edits, message):
    job = storyboard_complete_job(tenant, approved=True)

    response = refine(api, job, {"sceneEdits": edits})

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert all(name.startswith("sceneEdits") for name in fields)  # "sceneEdits", "sceneEdits[0].caption", ...
    assert message in str(fields)
    job.refresh_from_db()
    assert job.approved and job.status == JobStatus.STORYBOARD_COMPLETE
    assert {s.caption for s in Scene.objects.filter(job=job)} == {""}


def test_scene_edits_with_a_new_brief_are_refused(api, tenant, tasks):
    job = storyboard_complete_job(tenant)

    response = refine(api, job, {"creativePrompt": "Something else entirely",
                                 "sceneEdits": [{"sceneNumber": 1, "caption": "Hi"}]})

    assert response.status_code == 400
    assert "creativePrompt" in response.json()["fields"]["sceneEdits"][0]


def test_scene_edits_while_the_video_renders_are_409(api, tenant, tasks):
    job = storyboard_complete_job(tenant)
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.GENERATING_VIDEO)

    response = refine(api, job, {"sceneEdits": [{"sceneNumber": 1, "caption": "Hi"}]})

    assert response.status_code == 409
    assert scene(job, 1).caption == ""


def test_editing_the_hook_scenes_caption_clears_its_other_openings(api, tenant, tasks, local):
    job = finished_storyboard(api, tenant, tasks)
    Scene.objects.filter(job=job, number=1).update(hook_variants=[{"caption": "Ever run at dawn?", "narration": ""}])

    response = refine(api, job, {"sceneEdits": [{"sceneNumber": 1, "caption": "Our own opening"}]})

    assert response.status_code == 202, response.json()
    assert scene(job, 1).hook_variants == []  # the marketer's opening is every variation's opening
