"""v2 job serializers: request validation in camelCase, and the response documents as docs/api.md shows
them, rendered from the models (the same classes give the OpenAPI schema)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from campaigns.models import Campaign
from videogen import callbacks
from videogen.media.tts import WORDS_PER_SECOND, estimate_speech_seconds
from videogen.models import Asset, JobStatus, Platform, VideoJob
from videogen.planning.text import CAPTION_MAX_CHARS
from videogen.pricing import to_cents
from videogen.selectors import job_results, list_thumbnail_name, poll_after
from videogen.services import SceneEdit
from videogen.signed_urls import media_url, sign_events_url

DEFAULT_ASPECT = {"tiktok": "9:16", "meta": "4:5", "youtube": "16:9", "custom": "16:9"}
ASPECT_RATIOS = ("9:16", "1:1", "4:5", "16:9")
EXPORT_FORMATS = ("mp4", "gif", "webm")


class AssetRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Asset.Role.choices, required=False)
    sceneNumber = serializers.IntegerField(min_value=1, max_value=10, required=False)


class VoiceoverRequestSerializer(serializers.Serializer):
    """A spoken voiceover. Without `script` it reads each scene's narration, then the campaign's CTA."""

    enabled = serializers.BooleanField(default=False)
    script = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    voice = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                  help_text="Voice name of the text-to-speech model (offline: `joe`; Replicate "
                                            "kokoro: e.g. `am_michael`, `af_bella`). Empty: the default voice.")


class AudioControlsSerializer(serializers.Serializer):
    musicStyle = serializers.CharField(max_length=50, required=False, allow_blank=True)
    volume = serializers.FloatField(min_value=0, max_value=1, required=False)
    muted = serializers.BooleanField(required=False)
    voiceover = VoiceoverRequestSerializer(required=False)


def _keywords_field() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=60), max_length=20, required=False)


class GenerationRequestSerializer(serializers.Serializer):
    campaignId = serializers.UUIDField()
    clientId = serializers.UUIDField()
    videoName = serializers.CharField(max_length=200)
    creativePrompt = serializers.CharField(max_length=5000)
    duration = serializers.ChoiceField(choices=[15, 30, 60])
    platform = serializers.ChoiceField(choices=Platform.choices)
    aspectRatio = serializers.ChoiceField(choices=ASPECT_RATIOS, required=False)
    numberOfVariations = serializers.IntegerField(min_value=1, max_value=3, default=1)
    keywords = _keywords_field()
    stylePresets = _keywords_field()
    assets = AssetRefSerializer(many=True, required=False)
    audioControls = AudioControlsSerializer(required=False)
    exportFormats = serializers.ListField(
        child=serializers.ChoiceField(choices=EXPORT_FORMATS), max_length=3, required=False
    )
    captions = serializers.BooleanField(
        default=True, help_text="Burn each scene's caption into the video, inside the platform's safe zone."
    )
    callbackUrl = serializers.URLField(
        max_length=2000, required=False,
        help_text="https URL on the public internet; every status change is POSTed there as "
                  '{"event": "job.status_changed", "job": <job document>}, signed in X-Videogen-Signature.',
    )

    def validate_callbackUrl(self, value: str) -> str:
        try:
            callbacks.check_callback_url(value)
        except callbacks.UnsafeCallbackURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("aspectRatio", DEFAULT_ASPECT[attrs["platform"]])
        formats = set(attrs.get("exportFormats") or [])
        attrs["exportFormats"] = ["mp4", *[fmt for fmt in ("gif", "webm") if fmt in formats]]
        _check_script_fits(attrs)
        return attrs

    def to_job_fields(self, campaign: Campaign) -> dict[str, Any]:
        data = self.validated_data
        return {
            "client_id": campaign.client_id,
            "campaign": campaign,
            "video_name": data["videoName"],
            "creative_prompt": data["creativePrompt"],
            "duration": data["duration"],
            "platform": data["platform"],
            "aspect_ratio": data["aspectRatio"],
            "number_of_variations": data["numberOfVariations"],
            "keywords": data.get("keywords", []),
            "style_presets": data.get("stylePresets", []),
            "assets": _asset_refs(data.get("assets", [])),
            "audio_controls": {key: value for key, value in (data.get("audioControls") or {}).items()
                               if key != "voiceover"},
            "export_formats": data["exportFormats"],
            "captions": data["captions"],
            "voiceover": _voiceover_request(data),
            "callback_url": data.get("callbackUrl", ""),
        }


def _voiceover_request(data: dict[str, Any]) -> dict[str, Any] | None:
    """The job's voiceover as asked: script and seconds are filled in when it is spoken at render."""
    wanted = (data.get("audioControls") or {}).get("voiceover") or {}
    if not wanted.get("enabled"):
        return None
    return {"enabled": True, "voice": wanted.get("voice") or "", "script": (wanted.get("script") or "").strip(),
            "seconds": None}


def _check_script_fits(attrs: dict[str, Any]) -> None:
    """A script that cannot be spoken within the video is refused (estimated at an ad-read pace)."""
    wanted = (attrs.get("audioControls") or {}).get("voiceover") or {}
    script = (wanted.get("script") or "").strip()
    if not (wanted.get("enabled") and script):
        return
    needed = estimate_speech_seconds(script)
    room = attrs["duration"] - 0.5
    if needed > room:
        words_that_fit = int(room * WORDS_PER_SECOND)
        raise serializers.ValidationError({"audioControls": [
            f"The voiceover script takes about {needed:.0f} s to speak but the video is {attrs['duration']} s; "
            f"shorten it to about {words_that_fit} words."
        ]})


def _asset_refs(refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**ref, "id": str(ref["id"])} for ref in refs]


class SceneEditSerializer(serializers.Serializer):
    """One scene's new text. A new `description` regenerates the scene's image (spend); `caption` and
    `narration` change text only (no provider call)."""

    sceneNumber = serializers.IntegerField(min_value=1, max_value=10)
    description = serializers.CharField(max_length=1000, required=False)
    caption = serializers.CharField(max_length=CAPTION_MAX_CHARS, required=False, allow_blank=True,
                                    help_text="On-screen copy, at most 60 characters; empty shows no caption.")
    narration = serializers.CharField(max_length=400, required=False, allow_blank=True,
                                      help_text="The scene's voiceover line; it must be sayable within the scene.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not {"description", "caption", "narration"} & set(attrs):
            raise serializers.ValidationError("Give a new description, caption or narration.")
        return attrs

    def to_edit(self, data: dict[str, Any]) -> SceneEdit:
        return SceneEdit(number=data["sceneNumber"], description=data.get("description"),
                         caption=data.get("caption"), narration=data.get("narration"))


class RefineRequestSerializer(serializers.Serializer):
    creativePrompt = serializers.CharField(max_length=5000, required=False)
    keywords = _keywords_field()
    stylePresets = _keywords_field()
    assets = AssetRefSerializer(many=True, required=False)
    scenes = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=10), max_length=10,
                                   required=False, allow_empty=False)
    sceneEdits = SceneEditSerializer(
        many=True, required=False, allow_empty=False, max_length=10,
        help_text="Edits to single scenes, sent on their own or with `scenes` (a new brief, keywords, styles or "
                  "assets plan the whole storyboard again). Approval is reset either way.",
    )

    def validate_sceneEdits(self, edits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        numbers = [edit["sceneNumber"] for edit in edits]
        repeated = sorted({number for number in numbers if numbers.count(number) > 1})
        if repeated:
            raise serializers.ValidationError([f"Scene {number} is edited more than once." for number in repeated])
        return edits

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        replanning = sorted({"creativePrompt", "keywords", "stylePresets", "assets"} & set(attrs))
        if "sceneEdits" in attrs and replanning:
            raise serializers.ValidationError({"sceneEdits": [
                f"Send scene edits on their own or with `scenes`; {', '.join(replanning)} plan the whole "
                "storyboard again."
            ]})
        return attrs

    def scene_edits(self) -> list[SceneEdit] | None:
        if "sceneEdits" not in self.validated_data:
            return None
        return [SceneEditSerializer().to_edit(edit) for edit in self.validated_data["sceneEdits"]]

    def job_changes(self) -> dict[str, Any]:
        names = {"creativePrompt": "creative_prompt", "keywords": "keywords", "stylePresets": "style_presets"}
        changes = {field: self.validated_data[key] for key, field in names.items() if key in self.validated_data}
        if "assets" in self.validated_data:
            changes["assets"] = _asset_refs(self.validated_data["assets"])
        return changes


# --- Response documents: rendered from model instances; the same classes give the schema ---------


class MoneyField(serializers.DecimalField):
    """Dollars as a JSON number in cents, rounded half-up (videogen.pricing.to_cents); missing is 0."""

    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=12, decimal_places=2, coerce_to_string=False, **kwargs)

    def to_representation(self, value: Any) -> Decimal:
        return to_cents(Decimal(str(value or 0)))


class MediaUrlField(serializers.CharField):
    """A stored file as a signed, expiring URL (absolute for the request's host); null if not stored yet.

    `select` picks the storage name from the whole object where no attribute holds it.
    """

    def __init__(self, *, select: Callable[[Any], str] | None = None, **kwargs: Any):
        self.select = select
        if select is not None:
            kwargs["source"] = "*"
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        if self.select is not None:
            value = self.select(value)
        return media_url(getattr(value, "name", value), request=self.context.get("request"))


class FilledEntriesField(serializers.DictField):
    """A stored mapping without its empty entries."""

    def to_representation(self, value: Any) -> dict[str, Any]:
        return super().to_representation({key: item for key, item in (value or {}).items() if item})


class TextOrNullField(serializers.CharField):
    """Optional text: null rather than an empty string."""

    def __init__(self, **kwargs: Any):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return str(value) if value else None


class PollAfterField(serializers.IntegerField):
    """Seconds before the client should poll the job again (videogen.selectors.poll_after)."""

    def __init__(self, **kwargs: Any):
        super().__init__(source="*", **kwargs)

    def to_representation(self, job: VideoJob) -> int:
        return poll_after(job)


class EventsUrlField(serializers.CharField):
    """The job's signed live-updates URL (videogen.signed_urls.sign_events_url)."""

    def __init__(self, **kwargs: Any):
        super().__init__(source="pk", **kwargs)

    def to_representation(self, job_id: int) -> str:
        return sign_events_url(job_id, request=self.context.get("request"))


class CostBreakdownSerializer(serializers.Serializer):
    """Dollars per part of the work with the provider that runs the job; `total` is their sum.

    `replicateEquivalent` is what the same job costs on Replicate: equal to `total` there, and the
    figure beside a $0 estimate when the offline provider renders it.
    """

    storyboard = MoneyField()
    video = MoneyField()
    upscale = MoneyField()
    voiceover = MoneyField(help_text="Text-to-speech calls, one per voiceover line and variation.")
    total = MoneyField()
    replicateEquivalent = MoneyField(help_text="What the same job costs on Replicate (PRD 5.3 prices).")

    def to_representation(self, stored: dict[str, Any]) -> dict[str, Any]:
        # Rendered from the job's stored breakdown (cents as strings); a part it does not name is 0.
        stored = dict(stored or {})
        stored.setdefault("replicateEquivalent", stored.get("total", 0))  # jobs priced before the field
        return super().to_representation({name: stored.get(name, 0) for name in self.fields})


class VoiceoverSerializer(serializers.Serializer):
    """The job's voiceover: `script` is what is (or will be) spoken, `seconds` its measured length once
    rendered (null before)."""

    enabled = serializers.BooleanField()
    voice = serializers.CharField(allow_blank=True)
    script = serializers.CharField(allow_blank=True)
    seconds = serializers.FloatField(allow_null=True)

    def to_representation(self, voiceover: dict[str, Any]) -> dict[str, Any] | None:
        return super().to_representation(voiceover) if voiceover else None


class ProgressSerializer(serializers.Serializer):
    stage = serializers.CharField()
    percentage = serializers.IntegerField(min_value=0, max_value=100)
    currentScene = serializers.IntegerField(source="current_scene", allow_null=True)
    estimatedTimeRemaining = serializers.IntegerField(source="estimated_time_remaining", allow_null=True)
    cost = MoneyField(source="actual_cost")


class HookVariantSerializer(serializers.Serializer):
    caption = serializers.CharField(allow_blank=True)
    narration = serializers.CharField(allow_blank=True)


class StoryboardEntrySerializer(serializers.Serializer):
    sceneNumber = serializers.IntegerField(source="number")
    imageUrl = MediaUrlField(source="image")
    description = serializers.CharField()
    prompt = serializers.CharField()
    role = serializers.CharField(help_text="Where the scene sits in the ad: hook, beat, product, message or cta "
                                           "(empty for scenes planned before roles existed).")
    caption = serializers.CharField(max_length=CAPTION_MAX_CHARS, allow_blank=True,
                                    help_text="On-screen copy (burned in when the job has captions), <= 60 chars.")
    narration = serializers.CharField(allow_blank=True, help_text="This scene's voiceover line; may be empty.")
    hookVariants = HookVariantSerializer(
        source="hook_variants", many=True,
        help_text="The hook scene's other openings: variation 2 opens with the first, variation 3 with the "
                  "second (caption and voiceover line); empty for other scenes. Editing the scene's caption "
                  "or narration clears them, so the marketer's words open every variation.",
    )
    timestamp = serializers.FloatField(source="start_seconds")
    duration = serializers.FloatField(source="duration_seconds")
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)


class ExportsSerializer(serializers.Serializer):
    mp4 = MediaUrlField(source="video")
    gif = MediaUrlField()
    webm = MediaUrlField()


class VariationResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.CharField()
    videoUrl = MediaUrlField(source="video")
    thumbnailUrl = MediaUrlField(source="thumbnail")
    durationSeconds = serializers.FloatField(source="duration_seconds", allow_null=True)
    exports = ExportsSerializer(source="*")
    exportErrors = FilledEntriesField(source="export_errors", child=serializers.CharField())
    error = serializers.CharField(allow_blank=True)


class ResultsSerializer(serializers.Serializer):
    """The job's variations; its own video, thumbnail and exports are those of the first finished one."""

    videoUrl = MediaUrlField(source="first_completed.video")
    thumbnailUrl = MediaUrlField(source="first_completed.thumbnail")
    variations = VariationResultSerializer(many=True)
    exports = ExportsSerializer(source="first_completed")

    def to_representation(self, job: VideoJob) -> dict[str, Any]:
        data = super().to_representation(job_results(job))
        # No finished variation yet: every format is named, none has a URL.
        data["exports"] = data["exports"] or dict.fromkeys(ExportsSerializer().fields)
        return data


class ClarificationSerializer(serializers.Serializer):
    questions = serializers.ListField(child=serializers.CharField())

    def to_representation(self, clarification: dict[str, Any]) -> dict[str, Any] | None:
        return super().to_representation(clarification) if clarification else None


class PlannerField(serializers.ChoiceField):
    """Which planner built the storyboard: "llm" or "rules"; null until the brief is planned."""

    def __init__(self, **kwargs: Any):
        super().__init__(choices=[("llm", "llm"), ("rules", "rules")], allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value or None


class JobSummarySerializer(serializers.Serializer):
    """What the job list shows per job; the job document extends it."""

    job_id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    videoName = serializers.CharField(source="video_name")
    campaignId = serializers.UUIDField(source="campaign_id")
    clientId = serializers.UUIDField(source="client_id")
    platform = serializers.CharField()
    aspectRatio = serializers.CharField(source="aspect_ratio")
    duration = serializers.IntegerField()
    numberOfVariations = serializers.IntegerField(source="number_of_variations")
    approved = serializers.BooleanField()
    estimatedCost = MoneyField(source="estimated_cost")
    actualCost = MoneyField(source="actual_cost")
    progress = ProgressSerializer(source="*")
    error = TextOrNullField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="document_changed_at")
    thumbnailUrl = MediaUrlField(select=list_thumbnail_name)


class JobSerializer(JobSummarySerializer):
    """The job document of GET /jobs/{job_id} (docs/api.md)."""

    thumbnailUrl = None
    costBreakdown = CostBreakdownSerializer(source="cost_breakdown")
    storyboard = StoryboardEntrySerializer(source="scenes", many=True)
    results = ResultsSerializer(source="*")
    clarification = ClarificationSerializer(allow_null=True)
    planner = PlannerField()
    voiceover = VoiceoverSerializer(allow_null=True)
    pollAfter = PollAfterField()
    callbackUrl = TextOrNullField(source="callback_url", help_text="Where status changes are POSTed (null: none).")
    eventsUrl = EventsUrlField(
        help_text="Signed, expiring URL of this job's Server-Sent Events stream (GET /jobs/{job_id}/events), "
                  "usable without an Authorization header (EventSource). Valid for this job only."
    )


class GenerateResponseSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(source="pk")
    estimatedCost = MoneyField(source="estimated_cost")
    costBreakdown = CostBreakdownSerializer(source="cost_breakdown")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    pollAfter = PollAfterField()


class RenderResponseSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    estimatedCost = MoneyField(source="estimated_cost")
    costBreakdown = CostBreakdownSerializer(source="cost_breakdown")
