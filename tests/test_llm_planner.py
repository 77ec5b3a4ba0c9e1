"""The LLM planner (a Llama 3 instruct model on Replicate) against the fake server, tasks driven inline:
a valid plan, one retry on an invalid reply, the rules planner after two, after a timeout, the cache."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from tests.fake_replicate import FakeReplicate, plan_reply, tokens
from tests.helpers import using_fake_replicate
from tests.jobs import generate_body
from videogen.models import CostEntry, JobEvent, JobStatus, Prediction, VideoJob
from videogen.planning.llm import PROMPT_TEMPLATE, InvalidPlan, build_input, parse_reply
from videogen.prompts import BrandContext
from videogen.providers.replicate import result_from_json

pytestmark = pytest.mark.django_db

LLAMA = "meta/meta-llama-3-8b-instruct"
FLUX = "black-forest-labs/flux-schnell"
# meta/meta-llama-3-8b-instruct's published input schema.
LLAMA_INPUTS = {"prompt", "prompt_template", "max_tokens", "min_tokens", "temperature", "top_p", "top_k",
                "presence_penalty", "frequency_penalty"}
BRIEF = ("A runner laces up new sneakers at dawn, sprints through neon city streets, pauses on a rooftop "
         "as the sun rises, and the shoes glow as the crowd cheers.")


@pytest.fixture
def fake(fake_server, settings, tasks):
    fake_server.reset()
    with using_fake_replicate(settings, fake_server, VIDEOGEN_PLANNER="auto", REPLICATE_PLANNER_MODEL=LLAMA,
                              REPLICATE_STORYBOARD_MODEL=FLUX, PROVIDER_BACKOFF_SCALE=0.01,
                              PROVIDER_POLL_INTERVAL=0.02):
        yield fake_server
    assert fake_server.server_errors == []


def storyboard(api, tenant, tasks, **overrides) -> VideoJob:
    body = generate_body(tenant, creativePrompt=BRIEF, duration=30, **overrides)
    response = api.post("/api/v2/generate", body, format="json")
    assert response.status_code == 202, response.json()
    tasks.drain()
    job = VideoJob.objects.get(pk=response.json()["job_id"])
    assert job.status == JobStatus.STORYBOARD_COMPLETE, job.error
    return job


def planner_creates(fake: FakeReplicate) -> list[dict]:
    return [create for create in fake.creates if create["model"] == LLAMA]


# --- Through the pipeline ------------------------------------------------------------------------


def test_a_valid_reply_becomes_the_storyboard_with_captions_narration_and_roles(api, tenant, tasks, fake):
    job = storyboard(api, tenant, tasks)

    scenes = list(job.scenes.order_by("number"))
    assert job.planner == "llm"
    assert [s.description for s in scenes] == [f"Planned scene {n} of 5: a runner in motion" for n in range(1, 6)]
    assert [s.caption for s in scenes] == [f"Caption for scene {n}" for n in range(1, 6)]
    assert [s.narration for s in scenes] == [f"Narration line for scene {n}." for n in range(1, 6)]
    assert [s.role for s in scenes] == ["hook", "beat", "beat", "beat", "cta"]
    assert sum(s.duration_seconds for s in scenes) == 30
    assert all("bright colors, high contrast" in s.prompt for s in scenes)  # brand look appended


def test_the_hook_scene_keeps_the_models_other_openings_for_the_variations(api, tenant, tasks, fake):
    job = storyboard(api, tenant, tasks)

    storyboard_document = api.get(f"/api/v2/jobs/{job.pk}").json()["storyboard"]
    assert storyboard_document[0]["hookVariants"] == [
        {"caption": "Ever run at dawn?", "narration": "Ever run at dawn?"},
        {"caption": "The city is your track", "narration": "The city is your track."},
    ]
    assert all(scene["hookVariants"] == [] for scene in storyboard_document[1:])


def test_the_model_gets_the_brief_brand_and_campaign_in_its_published_input_names(api, tenant, tasks, fake):
    storyboard(api, tenant, tasks)

    [create] = planner_creates(fake)
    payload = create["input"]
    assert set(payload) <= LLAMA_INPUTS
    assert payload["prompt_template"] == PROMPT_TEMPLATE and "{prompt}" in PROMPT_TEMPLATE
    for expected in (BRIEF, "exactly 5 scenes", "tiktok", "playful, energetic", "#FF6B6B", "stock photography",
                     "sustainability", "Shop now at example.com/sneakers", "previous product lines"):
        assert expected in payload["prompt"]


def test_the_planner_prediction_is_recorded_and_booked_like_any_other(api, tenant, tasks, fake):
    job = storyboard(api, tenant, tasks)

    [prediction] = Prediction.objects.filter(job=job, purpose=Prediction.Purpose.PLANNER)
    assert prediction.status == Prediction.Status.SUCCEEDED and prediction.external_id
    assert json.loads(prediction.output_text)["scenes"][0]["caption"] == "Caption for scene 1"
    entry = CostEntry.objects.get(prediction=prediction)
    assert entry.kind == CostEntry.Kind.PLANNER and entry.amount == Decimal("0.001")
    assert job.actual_cost == Decimal("0.001") + 5 * Decimal("0.003")


def test_an_invalid_reply_is_retried_once_and_the_retry_is_used(api, tenant, tasks, fake):
    fake.script("create", "invalid_json", model=LLAMA)

    job = storyboard(api, tenant, tasks)

    first, second = planner_creates(fake)
    assert "could not be used" not in first["input"]["prompt"]
    assert "Your previous answer could not be used" in second["input"]["prompt"]
    assert job.planner == "llm"
    assert job.scenes.get(number=1).caption == "Caption for scene 1"
    assert CostEntry.objects.filter(job=job, kind=CostEntry.Kind.PLANNER).count() == 2  # both replies were paid
    assert JobEvent.objects.filter(job=job, kind="planner_invalid_reply").count() == 1


def test_two_invalid_replies_hand_the_job_to_the_rules_planner_and_it_completes(api, tenant, tasks, fake, caplog):
    fake.script("create", ["invalid_json", "invalid_json"], model=LLAMA)

    with caplog.at_level(logging.WARNING, logger="videogen.pipeline.planning"):
        job = storyboard(api, tenant, tasks)

    assert len(planner_creates(fake)) == 2
    assert job.planner == "rules"
    assert job.scenes.get(number=1).description == "A runner laces up new sneakers at dawn"
    fallback = JobEvent.objects.get(job=job, kind="planner_fallback")
    assert "not a valid plan twice" in fallback.message
    assert any("fell back to rules" in record.getMessage() for record in caplog.records)


def test_a_planner_that_does_not_answer_in_time_is_cancelled_and_the_rules_planner_plans(
    api, tenant, tasks, fake, settings
):
    settings.PLANNER_TIMEOUT_SECONDS = 0.5
    fake.script("create", "hang", model=LLAMA)

    job = storyboard(api, tenant, tasks)

    [create] = planner_creates(fake)
    assert create["prediction_id"] in fake.cancels
    assert job.planner == "rules"
    assert "did not answer within" in JobEvent.objects.get(job=job, kind="planner_fallback").message
    prediction = Prediction.objects.get(job=job, purpose=Prediction.Purpose.PLANNER)
    assert prediction.status == Prediction.Status.CANCELED
    assert not CostEntry.objects.filter(job=job, kind=CostEntry.Kind.PLANNER).exists()


def test_a_failing_planner_model_is_retried_then_replaced_by_the_rules_planner(api, tenant, tasks, fake):
    fake.script("create", ["fail", "fail"], model=LLAMA)

    job = storyboard(api, tenant, tasks)

    assert len(planner_creates(fake)) == 2
    assert job.planner == "rules"
    assert "failed" in JobEvent.objects.get(job=job, kind="planner_fallback").message


def test_the_same_request_again_within_the_cache_window_reuses_the_plan_without_a_call(api, tenant, tasks, fake):
    first = storyboard(api, tenant, tasks)
    second = storyboard(api, tenant, tasks)

    assert len(planner_creates(fake)) == 1
    assert second.planner == "llm"
    assert [s.caption for s in second.scenes.all()] == [s.caption for s in first.scenes.all()]
    assert Prediction.objects.get(job=second, purpose=Prediction.Purpose.PLANNER).cache_hit


def test_forcing_the_rules_planner_makes_no_llm_call(api, tenant, tasks, fake, settings):
    settings.VIDEOGEN_PLANNER = "rules"

    job = storyboard(api, tenant, tasks)

    assert planner_creates(fake) == []
    assert job.planner == "rules"


# --- Reading replies -----------------------------------------------------------------------------

CONTEXT = BrandContext(brand_name="Northwind", visual_style="bright colors", forbidden_elements=["stock photography"],
                       do_not_mention=["previous product lines"])


def reply(count: int = 3, **changes) -> str:
    data = json.loads(plan_reply({"prompt": f"exactly {count} scenes"}))
    for key, value in changes.items():
        data["scenes"][0][key] = value
    return json.dumps(data)


def test_a_reply_in_markdown_fences_with_a_preamble_is_read():
    plan = parse_reply(f"Here you go:\n```json\n{reply()}\n```", duration=15, scene_count=3, context=CONTEXT)

    assert plan.planner == "llm" and len(plan.scenes) == 3


@pytest.mark.parametrize(("text", "problem"), [
    ("Sure, a runner at dawn, then a close-up.", "no JSON object"),
    ('{"scenes": [{"role": "hook",', "no JSON object"),
    ('{"scenes": [}', "not valid JSON"),
    (json.dumps({"scenes": [{"role": "hook"}]}), "required"),
    (json.dumps({"scenes": "three"}), "is not of type"),
])
def test_replies_that_are_not_plans_are_refused_with_the_reason(text, problem):
    with pytest.raises(InvalidPlan, match=problem):
        parse_reply(text, duration=15, scene_count=3, context=CONTEXT)


def test_a_reply_with_the_wrong_number_of_scenes_is_refused():
    with pytest.raises(InvalidPlan, match="4 scenes instead of 3"):
        parse_reply(reply(4), duration=15, scene_count=3, context=CONTEXT)


def test_a_reply_repeating_a_description_is_refused():
    data = json.loads(reply())
    data["scenes"][1]["description"] = data["scenes"][0]["description"]
    with pytest.raises(InvalidPlan, match="same description"):
        parse_reply(json.dumps(data), duration=15, scene_count=3, context=CONTEXT)


def test_forbidden_elements_never_reach_the_prompt_caption_or_narration_whatever_the_model_wrote():
    text = reply(prompt="A runner, stock photography look", caption="Better than previous product lines",
                 narration="Forget previous product lines.")

    scene = parse_reply(text, duration=15, scene_count=3, context=CONTEXT).scenes[0]

    for field in (scene.prompt, scene.caption, scene.narration):
        assert "stock photography" not in field.lower() and "previous product lines" not in field.lower()
    assert "stock photography" in scene.negative_prompt


def test_other_openings_are_cleaned_like_captions_and_one_repeating_the_hook_is_dropped():
    data = json.loads(reply())
    data["alternateHooks"] = [
        {"caption": "Caption for scene 1", "narration": "The same opening again."},
        {"caption": "Better than previous product lines", "narration": "Forget previous product lines."},
        {"caption": "Run the night", "narration": "Run the night."},
    ]

    scene = parse_reply(json.dumps(data), duration=15, scene_count=3, context=CONTEXT).scenes[0]

    assert [caption for caption, _ in scene.hook_variants] == ["Better than", "Run the night"]
    assert all("previous product lines" not in narration for _, narration in scene.hook_variants)


def test_a_reply_without_other_openings_is_still_a_plan():
    data = json.loads(reply())
    del data["alternateHooks"]

    plan = parse_reply(json.dumps(data), duration=15, scene_count=3, context=CONTEXT)

    assert all(scene.hook_variants == () for scene in plan.scenes)


def test_long_captions_are_fitted_to_60_characters_and_narration_to_the_scene_seconds():
    text = reply(caption="An unusually long caption that keeps going well past the sixty character limit",
                 narration=" ".join(["word"] * 40))

    scene = parse_reply(text, duration=15, scene_count=3, context=CONTEXT).scenes[0]

    assert len(scene.caption) <= 60 and scene.caption.endswith("limit") is False
    assert len(scene.narration.split()) <= int(scene.duration_seconds * 2.5)


def test_timings_are_ours_and_add_up_to_the_duration():
    plan = parse_reply(reply(5), duration=30, scene_count=5, context=CONTEXT)

    assert sum(s.duration_seconds for s in plan.scenes) == 30
    assert plan.scenes[0].duration_seconds < plan.scenes[1].duration_seconds  # a quick hook


def test_the_retry_prompt_says_what_was_wrong():
    payload = build_input(BRIEF, duration=30, scene_count=5, platform="tiktok", context=CONTEXT,
                          retry_reason="the reply is not valid JSON")

    assert "(the reply is not valid JSON)" in payload["prompt"]
    assert "{" not in PROMPT_TEMPLATE.replace("{prompt}", "")  # the model formats the template


def test_a_language_model_token_list_is_read_as_text_not_as_a_file_url():
    result = result_from_json({"id": "p1", "status": "succeeded", "output": tokens('{"scenes": []}')})

    assert result.status == "succeeded" and result.text == '{"scenes": []}' and result.output_url == ""


def test_image_url_lists_are_still_file_outputs():
    result = result_from_json({"id": "p1", "status": "succeeded", "output": ["http://x/y.png"]})

    assert result.output_url == "http://x/y.png" and result.text == ""
