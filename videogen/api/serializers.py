"""v2 job serializers: request validation in camelCase, the job document as the contract shows it."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from campaigns.models import Campaign
from videogen.models import Asset, JobStatus, Platform

DEFAULT_ASPECT = {"tiktok": "9:16", "meta": "4:5", "youtube": "16:9", "custom": "16:9"}
ASPECT_RATIOS = ("9:16", "1:1", "4:5", "16:9")
EXPORT_FORMATS = ("mp4", "gif", "webm")


class AssetRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Asset.Role.choices, required=False)
    sceneNumber = serializers.IntegerField(min_value=1, max_value=10, required=False)


class AudioControlsSerializer(serializers.Serializer):
    musicStyle = serializers.CharField(max_length=50, required=False, allow_blank=True)
    volume = serializers.FloatField(min_value=0, max_value=1, required=False)
    muted = serializers.BooleanField(required=False)


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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("aspectRatio", DEFAULT_ASPECT[attrs["platform"]])
        formats = set(attrs.get("exportFormats") or [])
        attrs["exportFormats"] = ["mp4", *[fmt for fmt in ("gif", "webm") if fmt in formats]]
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
            "audio_controls": dict(data.get("audioControls") or {}),
            "export_formats": data["exportFormats"],
        }


def _asset_refs(refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**ref, "id": str(ref["id"])} for ref in refs]


class RefineRequestSerializer(serializers.Serializer):
    creativePrompt = serializers.CharField(max_length=5000, required=False)
    keywords = _keywords_field()
    stylePresets = _keywords_field()
    assets = AssetRefSerializer(many=True, required=False)
    scenes = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=10), max_length=10,
                                   required=False, allow_empty=False)

    def job_changes(self) -> dict[str, Any]:
        names = {"creativePrompt": "creative_prompt", "keywords": "keywords", "stylePresets": "style_presets"}
        changes = {field: self.validated_data[key] for key, field in names.items() if key in self.validated_data}
        if "assets" in self.validated_data:
            changes["assets"] = _asset_refs(self.validated_data["assets"])
        return changes


# --- Response documents (used for the schema; the payload is built in videogen.selectors) ---------

class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=12, decimal_places=2, coerce_to_string=False, **kwargs)


class CostBreakdownSerializer(serializers.Serializer):
    storyboard = MoneyField()
    video = MoneyField()
    upscale = MoneyField()
    total = MoneyField()


class ProgressSerializer(serializers.Serializer):
    stage = serializers.CharField()
    percentage = serializers.IntegerField(min_value=0, max_value=100)
    currentScene = serializers.IntegerField(allow_null=True)
    estimatedTimeRemaining = serializers.IntegerField(allow_null=True)
    cost = MoneyField()


class StoryboardEntrySerializer(serializers.Serializer):
    sceneNumber = serializers.IntegerField()
    imageUrl = serializers.CharField(allow_null=True)
    description = serializers.CharField()
    prompt = serializers.CharField()
    timestamp = serializers.FloatField()
    duration = serializers.FloatField()
    status = serializers.CharField()
    error = serializers.CharField(allow_blank=True)


class ExportsSerializer(serializers.Serializer):
    mp4 = serializers.CharField(allow_null=True)
    gif = serializers.CharField(allow_null=True)
    webm = serializers.CharField(allow_null=True)


class VariationResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.CharField()
    videoUrl = serializers.CharField(allow_null=True)
    thumbnailUrl = serializers.CharField(allow_null=True)
    durationSeconds = serializers.FloatField(allow_null=True)
    exports = ExportsSerializer()
    exportErrors = serializers.DictField(child=serializers.CharField())
    error = serializers.CharField(allow_blank=True)


class ResultsSerializer(serializers.Serializer):
    videoUrl = serializers.CharField(allow_null=True)
    thumbnailUrl = serializers.CharField(allow_null=True)
    variations = VariationResultSerializer(many=True)
    exports = ExportsSerializer()


class ClarificationSerializer(serializers.Serializer):
    questions = serializers.ListField(child=serializers.CharField())


class JobSummarySerializer(serializers.Serializer):
    """What the job list shows per job; the job document extends it."""

    job_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    videoName = serializers.CharField()
    campaignId = serializers.UUIDField()
    clientId = serializers.UUIDField()
    platform = serializers.CharField()
    aspectRatio = serializers.CharField()
    duration = serializers.IntegerField()
    numberOfVariations = serializers.IntegerField()
    approved = serializers.BooleanField()
    estimatedCost = MoneyField()
    actualCost = MoneyField()
    progress = ProgressSerializer()
    error = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    thumbnailUrl = serializers.CharField(allow_null=True)


class JobSerializer(JobSummarySerializer):
    """The job document of GET /jobs/{job_id} (CONTRACT.md)."""

    thumbnailUrl = None
    costBreakdown = CostBreakdownSerializer()
    storyboard = StoryboardEntrySerializer(many=True)
    results = ResultsSerializer()
    clarification = ClarificationSerializer(allow_null=True)
    pollAfter = serializers.IntegerField()


class GenerateResponseSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    estimatedCost = MoneyField()
    costBreakdown = CostBreakdownSerializer()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    pollAfter = serializers.IntegerField()


class RenderResponseSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    estimatedCost = MoneyField()
    costBreakdown = CostBreakdownSerializer()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
