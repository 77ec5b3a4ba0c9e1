"""The ops console: jobs (read-only, changed only through actions that use the state machine),
the cost ledger and its review page, provider predictions, assets and the budget limits."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from videogen import costs, ops, reports, services
from videogen.admin_analytics import analytics_view
from videogen.errors import DomainError, IllegalTransition, InvalidState
from videogen.models import (
    Asset,
    BudgetSettings,
    CostEntry,
    JobStatus,
    Prediction,
    SceneStatus,
    VideoJob,
)
from videogen.pricing import VARIANCE_ALERT_RATIO, format_money
from videogen.signed_urls import media_url
from videogen.storage import delete_quietly

S = JobStatus
STATUS_TONES = {
    S.COMPLETED: "ok", S.PARTIALLY_COMPLETED: "warn", S.FAILED: "bad", S.STALLED: "warn",
    S.CANCELLED: "muted", S.NEEDS_CLARIFICATION: "warn",
}


def status_badge(status: str) -> str:
    return format_html('<span class="vg-badge vg-badge--{}">{}</span>', STATUS_TONES.get(status, "info"), status)


def variance_badge(estimated: Decimal, actual: Decimal) -> str:
    """actual vs estimate in %, red past the 20 % alert threshold (pricing.VARIANCE_ALERT_RATIO)."""
    if not estimated:
        return ""
    percent = int(((actual / estimated) - 1) * 100)
    over = actual > estimated * VARIANCE_ALERT_RATIO
    return format_html(
        '<span class="vg-badge vg-badge--{}" title="actual vs estimate">{}{}%</span>',
        "bad" if over else "muted", "+" if percent > 0 else "", percent,
    )


# --- Job console --------------------------------------------------------------------------------


class CostVarianceFilter(admin.SimpleListFilter):
    title = "cost vs estimate"
    parameter_name = "variance"
    OVER = Q(estimated_cost__gt=0, actual_cost__gt=F("estimated_cost") * VARIANCE_ALERT_RATIO)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("over", "Over estimate by more than 20%"), ("within", "Within 20% of estimate")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "over":
            return queryset.filter(self.OVER)
        if self.value() == "within":
            return queryset.exclude(self.OVER)
        return queryset


class MarkFailedForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=1000, strip=True,
        help_text="Shown to the marketer as the job's error: say what happened and what they can do.",
    )


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    change_form_template = "admin/videogen/videojob/change_form.html"
    change_list_template = "admin/videogen/videojob/change_list.html"
    # Fits a 1366 px screen beside the filters: stage and progress sit under the status, the campaign
    # under the client (tests/browser/test_admin_layout.py).
    list_display = ["id", "video_name", "status_column", "client_column", "platform", "cost_column", "age"]
    list_display_links = ["id", "video_name"]
    list_filter = [
        "status", "platform", ("client", admin.RelatedOnlyFieldListFilter),
        ("campaign", admin.RelatedOnlyFieldListFilter), ("created_at", admin.DateFieldListFilter), CostVarianceFilter,
    ]
    search_fields = ["video_name", "creative_prompt"]
    search_help_text = "Search by name, prompt text or job id (e.g. 42 or #42)."
    list_select_related = ["client", "campaign"]
    list_per_page = 50
    ordering = ["-created_at"]
    actions = ["cancel_jobs", "retry_jobs", "rerun_failed_exports", "mark_failed"]
    fieldsets = [
        (None, {"fields": ["video_name", "client", "campaign", "created_by", "platform", "aspect_ratio", "duration",
                           "number_of_variations", "export_formats"]}),
        ("Where it is", {"fields": ["status", "stage", "percentage", "current_scene", "estimated_time_remaining",
                                    "approved", "run", "retry_count", "error", "clarification"]}),
        ("Money", {"fields": ["estimated_cost", "actual_cost", "variance", "cost_breakdown"]}),
        ("Brief", {"fields": ["creative_prompt", "keywords", "style_presets", "assets", "audio_controls"],
                   "classes": ["collapse"]}),
        ("Times", {"fields": ["created_at", "updated_at", "storyboard_started_at", "storyboard_completed_at",
                              "approved_at", "render_started_at", "finished_at", "request_id"],
                   "classes": ["collapse"]}),
    ]

    def get_urls(self) -> list:
        page = path("analytics/", self.admin_site.admin_view(lambda request: analytics_view(self, request)),
                    name="videogen_analytics")
        return [page, *super().get_urls()]

    # Jobs are created through the API and changed only through the actions below.
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for _, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The job page is view-only; the model-level permission gates the actions.
        return False if obj is not None else super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting a job would delete its cost ledger

    # -- list columns ----------------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_column(self, job: VideoJob) -> str:
        return format_html('{}<br><small class="vg-sub">{} · {}%</small>', status_badge(job.status), job.stage,
                           job.percentage)

    @admin.display(description="client / campaign", ordering="client__name")
    def client_column(self, job: VideoJob) -> str:
        return format_html('{}<br><small class="vg-sub">{}</small>', job.client, job.campaign)

    @admin.display(description="estimate → actual", ordering="actual_cost")
    def cost_column(self, job: VideoJob) -> str:
        return format_html(
            "{} → {} {}", format_money(job.estimated_cost), format_money(job.actual_cost),
            variance_badge(job.estimated_cost, job.actual_cost),
        )

    @admin.display(description="variance")
    def variance(self, job: VideoJob) -> str:
        return variance_badge(job.estimated_cost, job.actual_cost) or "—"

    @admin.display(description="age", ordering="created_at")
    def age(self, job: VideoJob) -> str:
        return timesince(job.created_at, depth=1)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lstrip("#")
        if term.isdigit():
            results = results | queryset.filter(pk=int(term))
        return results, may_have_duplicates

    # -- the job page ----------------------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        job = self.get_object(request, object_id)
        context = {**(extra_context or {}), **(self.console_context(request, job) if job else {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def console_context(self, request: HttpRequest, job: VideoJob) -> dict[str, Any]:
        scenes = [
            {"scene": scene, "url": media_url(scene.image.name), "end": scene.start_seconds + scene.duration_seconds}
            for scene in job.scenes.select_related("asset").order_by("number")
        ]
        slug = f"job-{job.pk}"
        variations = [
            {
                "variation": variation,
                "current": variation.run == job.run,
                "video_url": media_url(variation.video.name, f"{slug}-v{variation.index}.mp4"),
                "gif_url": media_url(variation.gif.name, f"{slug}-v{variation.index}.gif"),
                "webm_url": media_url(variation.webm.name, f"{slug}-v{variation.index}.webm"),
                "thumbnail_url": media_url(variation.thumbnail.name, f"{slug}-v{variation.index}.jpg"),
                "export_errors": {k: v for k, v in (variation.export_errors or {}).items() if v},
            }
            for variation in job.variations.order_by("index")
        ]
        cost_entries = list(job.cost_entries.select_related("prediction").order_by("created_at", "id"))
        return {
            "job": job,
            "scenes": scenes,
            "scenes_failed": sum(1 for s in scenes if s["scene"].status == SceneStatus.FAILED),
            "variations": variations,
            "events": job.events.order_by("created_at", "id"),
            "predictions": job.predictions.select_related("scene", "variation").order_by("created_at", "id"),
            "cost_entries": cost_entries,
            "cost_total": sum((entry.amount for entry in cost_entries), Decimal("0")),
            "callback_deliveries": job.callback_deliveries.prefetch_related("attempt_rows").order_by("version"),
            "job_actions": self.job_actions(request, job),
            "changelist_url": reverse("admin:videogen_videojob_changelist"),
        }

    def job_actions(self, request: HttpRequest, job: VideoJob) -> list[dict[str, str]]:
        """Buttons on the job page for the actions that apply to this job now."""
        if not super().has_change_permission(request):
            return []
        buttons = []
        if job.status not in (S.CANCELLED, S.COMPLETED):
            buttons.append({"name": "cancel_jobs", "label": "Cancel job", "tone": "bad"})
        if ops.can_retry(job):
            buttons.append({"name": "retry_jobs", "label": "Retry", "tone": "info"})
        if ops.variations_with_failed_exports(job):
            buttons.append({"name": "rerun_failed_exports", "label": "Re-run failed exports", "tone": "info"})
        if job.status in ops.CAN_MARK_FAILED:
            buttons.append({"name": "mark_failed", "label": "Mark failed…", "tone": "bad"})
        return buttons

    # -- actions ---------------------------------------------------------------------------

    def _finish(self, request: HttpRequest, outcome: ops.BulkOutcome) -> HttpResponse | None:
        level = messages.SUCCESS if not outcome.skipped else messages.WARNING if outcome.done else messages.ERROR
        self.message_user(request, outcome.message, level)
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if request.POST.get("_from_change") and len(selected) == 1:
            return HttpResponseRedirect(reverse("admin:videogen_videojob_change", args=[selected[0]]))
        return None

    def _actor(self, request: HttpRequest) -> str:
        return f"ops:{request.user.get_username()}"

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        outcome = ops.BulkOutcome("cancelled")
        for job in queryset.order_by("pk"):
            if job.status == S.CANCELLED:
                outcome.skip(job.pk, "is already cancelled")
                continue
            try:
                services.cancel(job, reason=f"cancelled by {self._actor(request)}")
            except InvalidState:
                job.refresh_from_db(fields=["status"])
                outcome.skip(job.pk, f"is {job.status}")
                continue
            outcome.done.append(job.pk)
            self.log_change(request, job, "Cancelled from the ops console.")
        return self._finish(request, outcome)

    @admin.action(description="Retry selected jobs (refine with no changes)", permissions=["change"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        outcome = ops.BulkOutcome("retried")
        for job in queryset.order_by("pk"):
            if not ops.can_retry(job):
                outcome.skip(job.pk, f"is {job.status} (only stopped or finished jobs can be retried)")
                continue
            try:
                ops.retry(job)
            except DomainError as exc:  # the budget or the circuit breaker refused; or the job moved meanwhile
                outcome.skip(job.pk, f"was not retried: {exc}")
                continue
            outcome.done.append(job.pk)
            self.log_change(request, job, "Retried from the ops console.")
        return self._finish(request, outcome)

    @admin.action(description="Re-run failed exports (GIF, WebM, thumbnail)", permissions=["change"])
    def rerun_failed_exports(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        outcome = ops.BulkOutcome("queued for re-export")
        for job in queryset.order_by("pk"):
            if job.status not in ops.FINISHED:
                outcome.skip(job.pk, f"is {job.status} (only finished jobs have exports)")
            elif not ops.queue_export_rerun(job):
                outcome.skip(job.pk, "has no failed exports")
            else:
                outcome.done.append(job.pk)
                self.log_change(request, job, "Re-export of failed formats queued from the ops console.")
        return self._finish(request, outcome)

    @admin.action(description="Mark selected jobs failed (asks for a reason)", permissions=["change"])
    def mark_failed(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        jobs = list(queryset.select_related("client").order_by("pk"))
        form = MarkFailedForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(request, "admin/videogen/videojob/mark_failed.html", {
                **self.admin_site.each_context(request),
                "title": "Mark jobs failed",
                "opts": self.opts,
                "form": form,
                "markable": [job for job in jobs if job.status in ops.CAN_MARK_FAILED],
                "refused": [job for job in jobs if job.status not in ops.CAN_MARK_FAILED],
                "allowed_from": ", ".join(ops.CAN_MARK_FAILED),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "from_change": request.POST.get("_from_change", ""),
            })
        reason = form.cleaned_data["reason"]
        outcome = ops.BulkOutcome("marked failed")
        for job in jobs:
            try:
                ops.mark_failed(job, reason=reason, actor=self._actor(request))
            except IllegalTransition as exc:
                outcome.skip(job.pk, f"is {exc.current} (only generating or stalled jobs can be marked failed)")
                continue
            outcome.done.append(job.pk)
            self.log_change(request, job, f"Marked failed from the ops console: {reason}")
        return self._finish(request, outcome)


# --- Cost ledger and the cost review page -------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the pipeline: ops look, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def job_link(job_id: int, label: str | None = None) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:videogen_videojob_change", args=[job_id]), label or f"#{job_id}"
    )


def parse_day(raw: str | None, name: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"“{raw}” is not a date for {name}; use YYYY-MM-DD.")
        return None


@admin.register(CostEntry)
class CostEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "job_column", "client", "campaign", "kind", "amount_column", "description"]
    list_filter = ["kind", ("client", admin.RelatedOnlyFieldListFilter), ("created_at", admin.DateFieldListFilter)]
    search_fields = ["description", "job__video_name"]
    list_select_related = ["job", "client", "campaign"]
    date_hierarchy = "created_at"
    change_list_template = "admin/videogen/costentry/change_list.html"

    @admin.display(description="job", ordering="job")
    def job_column(self, entry: CostEntry) -> str:
        return job_link(entry.job_id, str(entry.job))

    @admin.display(description="amount", ordering="amount")
    def amount_column(self, entry: CostEntry) -> str:
        return f"${entry.amount}"

    def get_urls(self) -> list:
        review = path("review/", self.admin_site.admin_view(self.cost_review_view), name="videogen_cost_review")
        return [review, *super().get_urls()]

    def cost_review_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("videogen.view_costentry"):
            raise PermissionDenied
        today = reports.utc_today()
        errors: list[str] = []
        start = parse_day(request.GET.get("from"), "From", errors) or today - timedelta(days=6)
        end = parse_day(request.GET.get("to"), "To", errors) or today
        if end < start:
            errors.append("The range ends before it starts; showing the last 7 days.")
            start, end = today - timedelta(days=6), today
        return TemplateResponse(request, "admin/videogen/cost_review.html", {
            **self.admin_site.each_context(request),
            "title": "Cost review",
            "opts": self.opts,
            "today": reports.cost_report(today),
            "report": reports.cost_report(start, end),
            "budget": costs.budget_status(),
            "errors": errors,
            "start": start,
            "end": end,
            "can_edit_budget": request.user.has_perm("videogen.view_budgetsettings"),
        })


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "job_column", "purpose", "model", "external_id", "status", "attempt", "cost",
                    "cache_hit"]
    list_filter = ["status", "purpose", "provider", "model", "cache_hit"]
    search_fields = ["external_id", "model", "error"]
    list_select_related = ["job"]

    @admin.display(description="job", ordering="job")
    def job_column(self, prediction: Prediction) -> str:
        return job_link(prediction.job_id)


# --- Assets -----------------------------------------------------------------------------------------


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["thumb", "filename", "client", "type", "role", "size_column", "dimensions", "created_at"]
    list_display_links = ["thumb", "filename"]
    list_filter = ["type", "role", ("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["filename", "client__name"]
    list_select_related = ["client"]
    fields = ["preview", "filename", "client", "role", "type", "mime_type", "size", "width", "height",
              "duration_seconds", "file", "uploaded_by", "created_at"]
    readonly_fields = ["preview", "client", "type", "mime_type", "size", "width", "height", "duration_seconds",
                       "file", "uploaded_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through /api/v2/upload-asset, which checks their content

    @admin.display(description="")
    def thumb(self, asset: Asset) -> str:
        if asset.type == Asset.Kind.IMAGE and asset.file:
            return format_html('<img class="vg-thumb" src="{}" alt="">', media_url(asset.file.name))
        return "▶" if asset.type == Asset.Kind.VIDEO else ""

    @admin.display(description="preview")
    def preview(self, asset: Asset) -> str:
        if not asset.file:
            return "—"
        url = media_url(asset.file.name, asset.filename or None)
        if asset.type == Asset.Kind.VIDEO:
            return format_html('<video class="vg-preview" controls preload="metadata" src="{}"></video>', url)
        return format_html('<img class="vg-preview" src="{}" alt="{}">', url, asset.filename)

    @admin.display(description="size", ordering="size")
    def size_column(self, asset: Asset) -> str:
        return f"{asset.size / 1_048_576:.1f} MB" if asset.size >= 1_048_576 else f"{asset.size / 1024:.0f} KB"

    @admin.display(description="dimensions")
    def dimensions(self, asset: Asset) -> str:
        size = f"{asset.width}×{asset.height}" if asset.width and asset.height else ""
        return f"{size} {asset.duration_seconds:.1f} s".strip() if asset.duration_seconds else size

    def delete_model(self, request: HttpRequest, obj: Asset) -> None:
        name = obj.file.name
        super().delete_model(request, obj)
        delete_quietly(name)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        names = [asset.file.name for asset in queryset]
        super().delete_queryset(request, queryset)
        for name in names:
            delete_quietly(name)


# --- Budget limits (a singleton) --------------------------------------------------------------------


class BudgetSettingsForm(forms.ModelForm):
    class Meta:
        model = BudgetSettings
        fields = ["daily_soft_limit", "daily_hard_limit"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, default in (("daily_soft_limit", settings.DAILY_BUDGET_SOFT),
                              ("daily_hard_limit", settings.DAILY_BUDGET_HARD)):
            self.fields[name].help_text = f"Dollars per UTC day. Empty: the environment's default (${default})."
            self.fields[name].min_value = Decimal("0")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        soft = data.get("daily_soft_limit")
        hard = data.get("daily_hard_limit")
        for name, value in (("daily_soft_limit", soft), ("daily_hard_limit", hard)):
            if value is not None and value < 0:
                self.add_error(name, "A limit cannot be negative.")
        effective_soft = soft if soft is not None else settings.DAILY_BUDGET_SOFT
        effective_hard = hard if hard is not None else settings.DAILY_BUDGET_HARD
        if effective_soft > effective_hard:
            self.add_error("daily_soft_limit", f"The soft limit (${effective_soft}) must not exceed the hard limit "
                                               f"(${effective_hard}).")
        return data


@admin.register(BudgetSettings)
class BudgetSettingsAdmin(admin.ModelAdmin):
    form = BudgetSettingsForm
    fields = ["daily_soft_limit", "daily_hard_limit", "in_force", "updated_at"]
    readonly_fields = ["in_force", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not BudgetSettings.objects.exists()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """One row of settings: the list is just the way to it."""
        current = BudgetSettings.objects.order_by("-updated_at").first()
        if current is not None:
            return redirect("admin:videogen_budgetsettings_change", current.pk)
        if self.has_add_permission(request):
            return redirect("admin:videogen_budgetsettings_add")
        return super().changelist_view(request, extra_context)

    @admin.display(description="limits in force today")
    def in_force(self, obj: BudgetSettings | None) -> str:
        status = costs.budget_status()
        return format_html(
            "soft {} · hard {} · spent today (UTC) {}",
            format_money(status.soft_limit), format_money(status.hard_limit), format_money(status.spent_today),
        )
