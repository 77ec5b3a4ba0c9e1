"""POST /api/v2/webhooks/replicate: Replicate tells us a prediction finished.

Unauthenticated by design; trust comes from the signature (Standard Webhooks, as Replicate signs them):
HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}" with the secret after `whsec_`,
compared in constant time. Stale timestamps (over 5 minutes) and replayed ids are refused
with 401. A valid report is applied exactly as a poll would apply it, then the job's next
step is queued. Polling stays the fallback: a lost or refused webhook only costs a poll.
"""

from __future__ import annotations

import binascii
import json
import logging
import time

from django.conf import settings
from django.core.cache import caches
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApiError, ErrorSerializer
from videogen.models import JobStatus, Prediction

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
REPLAY_WINDOW_SECONDS = 600
_SEEN = "webhook:replicate:seen:{}"

# The clock, replaceable in tests (the documented test vector is from 2021).
now = time.time


class InvalidWebhook(ApiError):
    def __init__(self, detail: str):
        super().__init__("invalid_webhook", detail, 401)


def verify(headers, body: bytes, secret: str) -> str:
    """Checks signature, freshness and (not yet) replay. Returns the webhook id."""
    if not secret:
        raise InvalidWebhook("Webhooks are not configured.")
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidWebhook("Missing or malformed webhook-timestamp.") from None
    if abs(now() - sent_at) > TOLERANCE_SECONDS:
        raise InvalidWebhook("The webhook timestamp is too old (or in the future).")
    try:
        text = body.decode("utf-8")
        # The client's helper compares with hmac.compare_digest; freshness is checked above
        # against our own clock.
        Webhooks.validate(
            headers={"webhook-id": webhook_id, "webhook-timestamp": timestamp,
                     "webhook-signature": headers.get("webhook-signature", "")},
            body=text, secret=WebhookSigningSecret(key=secret), tolerance=None,
        )
    except (WebhookValidationError, UnicodeDecodeError, binascii.Error, ValueError):
        raise InvalidWebhook("The webhook signature is invalid.") from None
    return webhook_id


def _shared_cache():
    return caches[settings.SHARED_CACHE_ALIAS]


class ReplicateWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="replicate_webhook",
        summary="Provider callback (signed; unsigned, stale or replayed: 401)",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiResponse(ErrorSerializer),
                   401: OpenApiResponse(ErrorSerializer)},
    )
    def post(self, request: Request) -> Response:
        body = request.body
        webhook_id = verify(request.headers, body, settings.REPLICATE_WEBHOOK_SECRET)
        seen_key = _SEEN.format(webhook_id)
        if not _shared_cache().add(seen_key, 1, timeout=REPLAY_WINDOW_SECONDS):
            raise InvalidWebhook("This webhook was already delivered.")
        try:
            return Response(handle(body))
        except Exception:
            _shared_cache().delete(seen_key)  # let Replicate's retry of this delivery through
            raise


def handle(body: bytes) -> dict:
    """Applies a verified webhook body; queues the job's next step when it changed something."""
    from videogen.pipeline import tasks
    from videogen.pipeline.predictions import apply_reported_result
    from videogen.pipeline.queue import enqueue_on_commit
    from videogen.providers.replicate import result_from_json

    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError("invalid", "The webhook body is not JSON.", 400) from None
    if not isinstance(data, dict) or not data.get("id") or not data.get("status"):
        return {"result": "ignored"}
    prediction = apply_reported_result(result_from_json(data))
    if prediction is None:
        return {"result": "ignored"}
    # The next step collects the output. Tasks check the run and take a lease: a duplicate or
    # late one (the worker polling this job got there first) returns at once.
    job = prediction.job
    storyboard_purposes = (Prediction.Purpose.PLANNER, Prediction.Purpose.STORYBOARD)
    if prediction.purpose in storyboard_purposes and job.status == JobStatus.GENERATING_STORYBOARD:
        enqueue_on_commit(tasks.BUILD_STORYBOARD, job.pk, job.run, request_id=job.request_id)
    elif prediction.variation_id and job.status == JobStatus.GENERATING_VIDEO:
        enqueue_on_commit(tasks.RENDER_VARIATION, job.pk, prediction.variation.index, job.run,
                          request_id=job.request_id)
    logger.info("webhook applied: prediction %s is %s", prediction.external_id, prediction.status)
    return {"result": "applied", "status": prediction.status}
