"""v2 job endpoints (docs/api.md): generate, poll, list, approve, render, refine, cancel, download."""

from __future__ import annotations

import hashlib
import io
import mimetypes
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Campaign
from clients.models import Membership
from config.errors import ErrorSerializer
from config.tenancy import role_for
from config.throttles import (
    ApproveThrottle,
    GenerateThrottle,
    ListThrottle,
    PollThrottle,
    RefineThrottle,
    RenderThrottle,
)
from videogen import callbacks, metrics, selectors, services, signed_urls
from videogen.api import serializers as s
from videogen.api.signing import stored_file_response
from videogen.errors import NotReady
from videogen.models import Asset, JobStatus, VideoJob

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 404, 409, 429)}


def _job_or_404(request: Request, job_id: int, *, write: bool = False) -> VideoJob:
    try:
        job = selectors.job_for_detail(request.user, job_id)
    except VideoJob.DoesNotExist:
        raise NotFound() from None
    if write and role_for(request.user, job.client_id) not in Membership.WRITER_ROLES:
        raise PermissionDenied("Viewers may read this client's jobs but not change them.")
    return job


def _job_document(job: VideoJob, request: Request) -> dict[str, Any]:
    return s.JobSerializer(job, context={"request": request}).data


def _etag(request: Request, job_id: int, version: int) -> str:
    """A strong validator of the job document, known without building it. The document is a function of
    the job's version (moved, with `updatedAt`, by every change a client could see), the signing windows
    of its media URLs and of its eventsUrl (they rotate every few minutes) and the host the URLs are
    built for; a heartbeat changes none of them."""
    windows = f"{signed_urls.rotation_marker()}:{signed_urls.rotation_marker(settings.EVENTS_URL_TTL_SECONDS)}"
    source = f"{job_id}:{version}:{windows}:{request.get_host()}"
    return '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    """If-None-Match uses weak comparison (RFC 9110 13.1.2): a `W/` prefix does not matter, `*` matches."""
    wanted = [tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")]
    return "*" in wanted or etag.removeprefix("W/") in wanted


def _job_response(job: VideoJob, request: Request, status_code: int = 200) -> Response:
    """The job document after a write, read afresh (with its scenes and variations)."""
    job = selectors.job_for_detail(request.user, job.pk)
    response = Response(_job_document(job, request), status=status_code)
    response["ETag"] = _etag(request, job.pk, job.version)
    return response


class GenerateView(APIView):
    throttle_classes = [GenerateThrottle]

    @extend_schema(
        request=s.GenerationRequestSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={202: s.GenerateResponseSerializer, 403: OpenApiResponse(ErrorSerializer),
                   422: OpenApiResponse(ErrorSerializer, description="`idempotency_key_reused`: this "
                                        "Idempotency-Key was used for a different body."),
                   503: OpenApiResponse(ErrorSerializer), **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = s.GenerationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        campaign = Campaign.objects.filter(
            pk=data["campaignId"], client_id=data["clientId"], client__memberships__user=request.user
        ).first()
        if campaign is None:
            raise NotFound("No such campaign for this client.")
        if role_for(request.user, campaign.client_id) not in Membership.WRITER_ROLES:
            raise PermissionDenied("Viewers may not start generations for this client.")
        _check_assets(data.get("assets", []), campaign.client_id)
        if data.get("callbackUrl") and not callbacks.has_secret(campaign.client_id):
            raise serializers.ValidationError({"callbackUrl": [
                "This client has no callback secret to sign callbacks with yet: ops create one in admin "
                "(Clients, action 'Rotate callback secret')."
            ]})
        key = (request.headers.get("Idempotency-Key") or "").strip()[:200] or None
        created = services.create_job(
            user=request.user, data=serializer.to_job_fields(campaign), idempotency_key=key,
            request_id=getattr(request, "request_id", ""), fingerprint=services.request_fingerprint(data),
        )
        job = created.job
        response = Response(s.GenerateResponseSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = f"/api/v2/jobs/{job.pk}"
        if created.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _check_assets(refs: list[dict[str, Any]], client_id: Any) -> None:
    ids = {ref["id"] for ref in refs}
    found = set(Asset.objects.filter(id__in=ids, client_id=client_id).values_list("id", flat=True))
    missing = [str(asset_id) for asset_id in ids - found]
    if missing:
        raise serializers.ValidationError({"assets": [f"Unknown asset {asset_id}." for asset_id in sorted(missing)]})


class JobPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        # DRF silently ignores a malformed page size; the schema says 1-100, so say so.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise serializers.ValidationError({"pageSize": [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return super().get_page_size(request)


class JobListView(APIView):
    throttle_classes = [ListThrottle]
    pagination_class = JobPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("campaignId", OpenApiTypes.UUID, required=False),
            OpenApiParameter("clientId", OpenApiTypes.UUID, required=False),
            OpenApiParameter("status", str, enum=JobStatus.values, required=False),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}, required=False),
            OpenApiParameter("pageSize", {"type": "integer", "minimum": 1, "maximum": 100}, required=False),
        ],
        responses={200: s.JobSummarySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(self._filtered(request), request, view=self)
        rows = s.JobSummarySerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(rows)

    def _filtered(self, request: Request) -> QuerySet[VideoJob]:
        queryset = selectors.jobs_for_list(request.user)
        errors: dict[str, list[str]] = {}
        for param, field in (("campaignId", "campaign_id"), ("clientId", "client_id")):
            value = request.query_params.get(param)
            if value:
                try:
                    queryset = queryset.filter(**{field: serializers.UUIDField().to_internal_value(value)})
                except serializers.ValidationError:
                    errors[param] = ["Must be a valid UUID."]
        status_filter = request.query_params.get("status")
        if status_filter:
            if status_filter not in JobStatus.values:
                errors["status"] = [f"Must be one of {', '.join(JobStatus.values)}."]
            queryset = queryset.filter(status=status_filter)
        if errors:
            raise serializers.ValidationError(errors)
        return queryset


def _no_cache(response: Response, etag: str) -> Response:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class JobDetailView(APIView):
    def get_throttles(self):  # type: ignore[override]
        return [PollThrottle()] if self.request.method == "GET" else []

    @extend_schema(
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, required=False)],
        responses={200: s.JobSerializer, 304: OpenApiResponse(description="Not modified"), **ERRORS},
    )
    def get(self, request: Request, job_id: int) -> Response:
        metrics.POLL_REQUESTS_TOTAL.inc()
        if request.headers.get("If-None-Match"):
            # The cheap path for pollers: one tenancy-scoped query for the version, no document.
            version = selectors.job_version(request.user, job_id)
            if version is None:
                raise NotFound()
            etag = _etag(request, job_id, version)
            if _matches(request, etag):
                return _no_cache(Response(status=status.HTTP_304_NOT_MODIFIED), etag)
        job = _job_or_404(request, job_id)
        return _no_cache(Response(_job_document(job, request)), _etag(request, job.pk, job.version))

    @extend_schema(request=None, responses={200: s.JobSerializer, **ERRORS})
    def delete(self, request: Request, job_id: int) -> Response:
        job = services.cancel(_job_or_404(request, job_id, write=True))
        return _job_response(job, request)


class ApproveView(APIView):
    throttle_classes = [ApproveThrottle]

    @extend_schema(request=None, responses={200: s.JobSerializer, **ERRORS})
    def post(self, request: Request, job_id: int) -> Response:
        job = services.approve(_job_or_404(request, job_id, write=True))
        return _job_response(job, request)


class RenderView(APIView):
    throttle_classes = [RenderThrottle]

    @extend_schema(request=None, responses={202: s.RenderResponseSerializer, 503: OpenApiResponse(ErrorSerializer),
                                            **ERRORS})
    def post(self, request: Request, job_id: int) -> Response:
        job = services.start_render(_job_or_404(request, job_id, write=True))
        return Response(s.RenderResponseSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class RefineView(APIView):
    throttle_classes = [RefineThrottle]

    @extend_schema(request=s.RefineRequestSerializer, responses={202: s.JobSerializer, **ERRORS})
    def post(self, request: Request, job_id: int) -> Response:
        job = _job_or_404(request, job_id, write=True)
        serializer = s.RefineRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "assets" in serializer.validated_data:
            _check_assets(serializer.validated_data["assets"], job.client_id)
        edits = serializer.scene_edits()
        scenes = serializer.validated_data.get("scenes")
        if edits is not None:
            job = services.edit_scenes(job, edits=edits, scenes=scenes)
        else:
            job = services.refine(job, changes=serializer.job_changes(), scenes=scenes)
        return _job_response(job, request, status.HTTP_202_ACCEPTED)


CONTENT_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "webm": "video/webm"}


class JobDataView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(CONTENT_TYPES), required=False),
            OpenApiParameter("variation", {"type": "integer", "minimum": 1, "maximum": 3}, required=False),
            OpenApiParameter("Range", str, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            (200, "video/mp4"): OpenApiTypes.BINARY,
            (206, "video/mp4"): OpenApiTypes.BINARY,
            (200, "image/gif"): OpenApiTypes.BINARY,
            (200, "video/webm"): OpenApiTypes.BINARY,
            **ERRORS,
        },
    )
    def get(self, request: Request, job_id: int) -> HttpResponse:
        job = _job_or_404(request, job_id)
        fmt = request.query_params.get("format", "mp4")
        if fmt not in CONTENT_TYPES:
            raise serializers.ValidationError({"format": [f"Must be one of {', '.join(CONTENT_TYPES)}."]})
        index = _variation_param(request)
        variation, name = selectors.media_for_download(job, fmt=fmt, variation_index=index)
        if not name:
            raise NotReady(f"The {fmt} file is not ready yet.")
        filename = f"{_slug(job.video_name)}-v{variation.index}.{fmt}"
        return stored_file_response(request, name, content_type=CONTENT_TYPES[fmt],
                                    disposition=content_disposition_header(True, filename))


def _variation_param(request: Request) -> int | None:
    raw = request.query_params.get("variation")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise serializers.ValidationError({"variation": ["Must be a whole number from 1 to 3."]}) from None
    if not 1 <= value <= 3:
        raise serializers.ValidationError({"variation": ["Must be a whole number from 1 to 3."]})
    return value


def _slug(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
    return "-".join(part for part in cleaned.split("-") if part)[:60] or "video"


class JobThumbnailView(APIView):
    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **ERRORS})
    def get(self, request: Request, job_id: int) -> HttpResponse:
        job = _job_or_404(request, job_id)
        name = selectors.thumbnail_name(job)
        if not name:
            raise NotReady("There is no thumbnail yet: neither the video nor a storyboard image exists.")
        if mimetypes.guess_type(name)[0] == "image/jpeg":
            return FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
        return HttpResponse(_as_jpeg(name), content_type="image/jpeg")


def _as_jpeg(name: str) -> bytes:
    from PIL import Image

    with default_storage.open(name, "rb") as handle, Image.open(handle) as image:
        image.thumbnail((720, 1280))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()
