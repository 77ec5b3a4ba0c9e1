"""The video job model family: jobs, their scenes and variations, provider predictions and the cost ledger.

Status is written only by `videogen.pipeline.state` (the job state machine); everything
else reads it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models

from campaigns.models import Campaign
from clients.models import Client

MONEY = {"max_digits": 12, "decimal_places": 4, "default": Decimal("0")}


class Asset(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"

    class Role(models.TextChoices):
        SCENE = "scene"
        PRODUCT = "product"
        LOGO = "logo"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assets")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(max_length=500)
    type = models.CharField(max_length=10, choices=Kind.choices)
    mime_type = models.CharField(max_length=50)
    size = models.BigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "created_at"])]

    def __str__(self) -> str:
        return self.filename or str(self.id)


class JobStatus(models.TextChoices):
    GENERATING_STORYBOARD = "generating_storyboard"
    NEEDS_CLARIFICATION = "needs_clarification"
    STORYBOARD_COMPLETE = "storyboard_complete"
    GENERATING_VIDEO = "generating_video"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STALLED = "stalled"


class Platform(models.TextChoices):
    TIKTOK = "tiktok"
    META = "meta"
    YOUTUBE = "youtube"
    CUSTOM = "custom"


class VideoJob(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="jobs")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="jobs")

    # The generation request as the marketer sent it.
    video_name = models.CharField(max_length=200)
    creative_prompt = models.TextField()
    duration = models.PositiveSmallIntegerField()
    platform = models.CharField(max_length=10, choices=Platform.choices)
    aspect_ratio = models.CharField(max_length=5)
    number_of_variations = models.PositiveSmallIntegerField(default=1)
    keywords = models.JSONField(default=list, blank=True)
    style_presets = models.JSONField(default=list, blank=True)
    assets = models.JSONField(default=list, blank=True)
    audio_controls = models.JSONField(default=dict, blank=True)
    export_formats = models.JSONField(default=list, blank=True)
    # Creative options: burned-in captions (default on) and the voiceover request/result
    # ({enabled, voice, script, seconds}); null when no voiceover was asked for.
    captions = models.BooleanField(default=True)
    voiceover = models.JSONField(null=True, blank=True)
    # Which scene planner built the storyboard ("llm" or "rules"); blank until parsed.
    planner = models.CharField(max_length=8, blank=True)
    # Where every status change is POSTed, signed with the client's callback secret (videogen.callbacks).
    callback_url = models.URLField(max_length=2000, blank=True)

    # Where the job is (written only by the state machine).
    status = models.CharField(max_length=24, choices=JobStatus.choices, default=JobStatus.GENERATING_STORYBOARD)
    stage = models.CharField(max_length=40, default="queued")
    percentage = models.PositiveSmallIntegerField(default=0)
    current_scene = models.PositiveSmallIntegerField(null=True, blank=True)
    estimated_time_remaining = models.PositiveIntegerField(null=True, blank=True)
    approved = models.BooleanField(default=False)
    clarification = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    # A refine or a render starts a new run; tasks of an older run stop on their own.
    run = models.PositiveIntegerField(default=1)
    # Bumped by every change a poller could see (status, progress, scenes, variations): the ETag
    # and the Server-Sent Events id. Written only through `videogen.pipeline.state`.
    version = models.PositiveBigIntegerField(default=1)
    # When `version` last moved: the document's `updatedAt` (`updated_at` also moves with heartbeats,
    # which change nothing a client sees and must not break a strong ETag built from the version).
    changed_at = models.DateTimeField(null=True, blank=True)
    # Lease: the worker currently advancing the job (a second copy of a task backs off).
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the storyboard's next step is due though no prediction finished (a retry after backoff, a
    # step asked for while another held the lease). The poller queues the step once it is due.
    wake_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # Money (Decimal dollars).
    estimated_cost = models.DecimalField(**MONEY)
    cost_breakdown = models.JSONField(default=dict, blank=True)
    actual_cost = models.DecimalField(**MONEY)

    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    storyboard_started_at = models.DateTimeField(null=True, blank=True)
    storyboard_completed_at = models.DateTimeField(null=True, blank=True)
    # When the current storyboard was approved (explicitly, or implicitly by /render); cleared by a refine.
    approved_at = models.DateTimeField(null=True, blank=True)
    render_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["campaign"]),
            models.Index(fields=["client"]),
            models.Index(fields=["updated_at"]),
            models.Index(fields=["status", "updated_at"]),
            # Analytics (videogen/analytics.py) reads one client's jobs by the day they started,
            # finished and got their storyboard.
            models.Index(fields=["client", "created_at"], name="videojob_client_created"),
            models.Index(fields=["client", "finished_at"], name="videojob_client_finished"),
            models.Index(fields=["client", "storyboard_completed_at"], name="videojob_client_storyboard"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.video_name}"

    @property
    def document_changed_at(self) -> datetime:
        """When the job document last changed (jobs from before `changed_at` existed: their last write)."""
        return self.changed_at or self.updated_at


class SceneStatus(models.TextChoices):
    PENDING = "pending"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"


class Scene(models.Model):
    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="scenes")
    number = models.PositiveSmallIntegerField()
    description = models.TextField()
    prompt = models.TextField()
    # Where the scene sits in the ad ("hook", "beat", "product", "message", "cta"); blank for old rows.
    role = models.CharField(max_length=12, blank=True)
    # On-screen copy (burned in when the job has captions) and this scene's voiceover line.
    caption = models.CharField(max_length=60, blank=True)
    narration = models.TextField(blank=True)
    # Other openings for variations 2 and 3 of the ad (the hook scene only): [{"caption", "narration"}].
    # Variation 1 uses `caption` and `narration`; a marketer's edit of either clears these.
    hook_variants = models.JSONField(default=list, blank=True)
    negative_prompt = models.TextField(blank=True)
    start_seconds = models.FloatField()
    duration_seconds = models.FloatField()
    status = models.CharField(max_length=12, choices=SceneStatus.choices, default=SceneStatus.PENDING)
    image = models.FileField(max_length=500, blank=True)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    run = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="unique_scene_number")]

    def __str__(self) -> str:
        return f"{self.job_id}/scene {self.number}"


class VariationStatus(models.TextChoices):
    PENDING = "pending"
    RENDERING = "rendering"
    EXPORTING = "exporting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Variation(models.Model):
    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="variations")
    index = models.PositiveSmallIntegerField()
    run = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=VariationStatus.choices, default=VariationStatus.PENDING)
    percentage = models.PositiveSmallIntegerField(default=0)
    video = models.FileField(max_length=500, blank=True)
    gif = models.FileField(max_length=500, blank=True)
    webm = models.FileField(max_length=500, blank=True)
    thumbnail = models.FileField(max_length=500, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    export_errors = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # Each variation renders in its own task; the lease keeps a duplicate task from racing it.
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # As VideoJob.wake_at, for this variation's render step.
    wake_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="unique_variation_index")]

    def __str__(self) -> str:
        return f"{self.job_id}/variation {self.index}"


class Prediction(models.Model):
    """A provider call, recorded before it is awaited so a restarted worker polls it instead of paying twice."""

    class Purpose(models.TextChoices):
        PLANNER = "planner"  # the LLM writing the scene plan
        STORYBOARD = "storyboard"
        VIDEO = "video"
        UPSCALE = "upscale"
        VOICEOVER = "voiceover"

    class Status(models.TextChoices):
        CREATING = "creating"  # recorded, create call not yet answered
        STARTING = "starting"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="predictions")
    scene = models.ForeignKey(Scene, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions")
    variation = models.ForeignKey(
        Variation, null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions"
    )
    run = models.PositiveIntegerField(default=1)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=200)
    input_hash = models.CharField(max_length=64, db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATING)
    output_url = models.TextField(blank=True)
    # Text outputs (the planner's reply); media outputs are fetched from `output_url` instead.
    output_text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    cost = models.DecimalField(**MONEY)
    predict_seconds = models.FloatField(null=True, blank=True)
    cache_hit = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["job", "status"]), models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.model} {self.external_id or '(creating)'} {self.status}"


class CostEntry(models.Model):
    """The money ledger: one row per paid provider result. Sums, never floats."""

    class Kind(models.TextChoices):
        PLANNER = "planner"
        STORYBOARD = "storyboard"
        VIDEO = "video"
        UPSCALE = "upscale"
        VOICEOVER = "voiceover"

    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="cost_entries")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="cost_entries")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cost_entries")
    prediction = models.OneToOneField(
        Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="cost_entry"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "cost entries"
        indexes = [models.Index(fields=["client", "created_at"]), models.Index(fields=["campaign", "created_at"])]

    def __str__(self) -> str:
        return f"${self.amount} {self.kind} job {self.job_id}"


class JobEvent(models.Model):
    """The job's timeline: state changes, provider calls and their errors, ops actions."""

    # One per accepted refine request from the API, whatever it regenerates; analytics counts
    # refinements from these rows. An ops retry from the admin re-runs the storyboard too, but is
    # recorded as RETRY: it repairs a failure, it is not the marketer asking for changes.
    REFINE = "refine"
    RETRY = "retry"

    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["job", "created_at"]),
            models.Index(fields=["kind", "job"], name="jobevent_kind_job"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status}"


class IdempotencyRecord(models.Model):
    """Maps (user, Idempotency-Key) to the job the first request created, for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="+")
    # SHA-256 of the first request's validated body: the same key with another body is refused (422),
    # never answered with the first job. Empty for records made before fingerprints existed.
    body_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} -> job {self.job_id}"


class SceneImageCache(models.Model):
    """Scene images already paid for, keyed by model + final prompt + aspect ratio + seed (24 h)."""

    key = models.CharField(max_length=64, unique=True)
    model = models.CharField(max_length=200)
    image = models.FileField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.model} {self.key[:12]}"


class BudgetSettings(models.Model):
    """Admin override of the daily budget limits; empty fields fall back to the environment."""

    daily_soft_limit = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    daily_hard_limit = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "budget settings"
        verbose_name_plural = "budget settings"

    def __str__(self) -> str:
        return "Daily budget limits"


class RateLimitBucket(models.Model):
    """One rate-limit window (a throttle key's recent hits) when the shared cache is not Redis.

    Written by compare-and-set on `version` (videogen/ratelimit.py), so concurrent requests across
    processes count exactly; with Redis the same window lives in a sorted set updated by one Lua script.
    """

    key = models.CharField(max_length=250, primary_key=True)
    hits = models.JSONField(default=list)  # unix timestamps (seconds) inside the window, oldest first
    version = models.PositiveBigIntegerField(default=0)  # moves with every write: the compare-and-set guard
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class ServiceLease(models.Model):
    """A named lease for a singleton loop (the provider poller): one holder per deployment at a time.

    The holder renews it every tick; a holder that was SIGKILLed stops renewing and any standby
    process takes over once it expires.
    """

    name = models.CharField(max_length=40, primary_key=True)
    owner = models.CharField(max_length=80, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner or 'nobody'}"


class JobStatusSnapshot(models.Model):
    """The job document as it was when the job entered a status, written in the transition's transaction.

    Live streams replay these so that a client that missed some changes (a reconnect, a burst of
    transitions) still sees every status in order; callbacks send the same document.
    """

    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="status_snapshots")
    version = models.PositiveBigIntegerField()
    status = models.CharField(max_length=24, choices=JobStatus.choices)
    # The document as JSON text, exactly as streamed (media URLs relative or on PUBLIC_BASE_URL).
    document = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # pruned by age (live.snapshots)

    class Meta:
        ordering = ["job", "version"]
        constraints = [models.UniqueConstraint(fields=["job", "version"], name="unique_snapshot_version")]

    def __str__(self) -> str:
        return f"{self.job_id} v{self.version} {self.status}"


class CallbackDelivery(models.Model):
    """One status change to POST to the job's `callback_url`, retried with backoff for 24 hours.

    The body is fixed when the status changes (the same bytes on every attempt); the signature is
    made at send time (its timestamp is the attempt's).
    """

    class State(models.TextChoices):
        PENDING = "pending"  # waiting for its next attempt
        DELIVERED = "delivered"  # the receiver answered 2xx
        FAILED = "failed"  # gave up after 24 hours (or the URL became unsafe)

    job = models.ForeignKey(VideoJob, on_delete=models.CASCADE, related_name="callback_deliveries")
    version = models.PositiveBigIntegerField()
    event = models.CharField(max_length=40, default="job.status_changed")
    url = models.URLField(max_length=2000)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker sending it right now (a second copy of the task backs off until this passes).
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "version"]
        verbose_name_plural = "callback deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} job {self.job_id} v{self.version} ({self.state})"


class CallbackAttempt(models.Model):
    """One POST of a callback delivery: what the receiver answered, or why it could not be reached."""

    delivery = models.ForeignKey(CallbackDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"
