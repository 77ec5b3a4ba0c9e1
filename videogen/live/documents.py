"""The job document as JSON text: the one body streams, status snapshots and callbacks send.

Rendered by the same serializer and JSON renderer as GET /jobs/{job_id}, so a stream's `data:` is
byte for byte what a poll would return at that version (one line: JSON escapes newlines in strings).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from rest_framework.renderers import JSONRenderer

from videogen.api.serializers import JobSerializer
from videogen.models import Scene, Variation, VideoJob


def load_job(job_id: int) -> VideoJob | None:
    """The job with what its document needs, without tenancy (callers authorised the job already)."""
    return VideoJob.objects.prefetch_related(
        Prefetch("scenes", queryset=Scene.objects.order_by("number")),
        Prefetch("variations", queryset=Variation.objects.order_by("index")),
    ).filter(pk=job_id).first()


def document_json(job: VideoJob, request: Any = None) -> str:
    return JSONRenderer().render(JobSerializer(job, context={"request": request}).data).decode()
