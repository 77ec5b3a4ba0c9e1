"""GET /api/v2/analytics: a client's jobs, approvals, refinements and spend (docs/api.md, Analytics).

Thin: the query serializer validates, tenancy decides 404, `videogen.analytics` computes, and the
response serializer below is the only description of the answer (the schema comes from it).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Campaign
from clients.models import Client
from config.errors import ErrorSerializer
from config.tenancy import scope_to_user
from config.throttles import AnalyticsThrottle
from videogen import analytics
from videogen.api.serializers import MoneyField
from videogen.models import Platform

WINDOW = "UTC days `from`..`to`, both included"


class AnalyticsQuerySerializer(serializers.Serializer):
    clientId = serializers.UUIDField(help_text="The client (you must be a member; viewers may read).")
    campaignId = serializers.UUIDField(required=False, help_text="Only this campaign of the client.")
    # `from` is a Python keyword: the field is put into the class namespace by name.
    locals()["from"] = serializers.DateField(
        required=False, input_formats=["iso-8601"],
        help_text=f"First UTC day (YYYY-MM-DD), default 29 days before `to`; {analytics.FIRST_DAY} to "
                  f"{analytics.LAST_DAY}.",
    )
    to = serializers.DateField(required=False, input_formats=["iso-8601"],
                               help_text="Last UTC day (YYYY-MM-DD), included; default today (UTC).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {name: [error] for name in ("from", "to") if name in attrs
                  for error in [analytics.day_error(attrs[name])] if error}
        if errors:
            raise serializers.ValidationError(errors)
        attrs["from"], attrs["to"] = analytics.default_range(attrs.get("from"), attrs.get("to"))
        error = analytics.range_error(attrs["from"], attrs["to"])
        if error:
            raise serializers.ValidationError({"from" if "from" in self.initial_data else "to": [error]})
        return attrs


class JobCountsSerializer(serializers.Serializer):
    started = serializers.IntegerField(min_value=0, help_text="Jobs created in the window.")
    completed = serializers.IntegerField(min_value=0, help_text="Jobs completed in the window (still completed).")
    partiallyCompleted = serializers.IntegerField(
        source="partially_completed", min_value=0,
        help_text="Jobs that finished in the window with some variations missing.",
    )
    failed = serializers.IntegerField(min_value=0, help_text="Jobs that failed in the window (still failed).")
    cancelled = serializers.IntegerField(min_value=0, help_text="Jobs cancelled in the window (still cancelled).")


class CampaignCostSerializer(serializers.Serializer):
    campaignId = serializers.UUIDField(source="campaign_id")
    name = serializers.CharField()
    videos = serializers.IntegerField(min_value=0, help_text="Finished videos (completed variations) in the window.")
    cost = MoneyField(help_text="What the ledger booked for this campaign in the window, in dollars.")


class DayCostSerializer(serializers.Serializer):
    date = serializers.DateField()
    cost = MoneyField(help_text="What the ledger booked on this UTC day, in dollars.")


class PlatformUsageSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    jobs = serializers.IntegerField(min_value=0, help_text="Jobs for this platform created in the window.")
    cost = MoneyField(help_text="What the ledger booked in the window for jobs on this platform, in dollars.")


class AnalyticsSerializer(serializers.Serializer):
    """Definitions in full: README.md "Analytics" and videogen/analytics.py."""

    clientId = serializers.UUIDField(source="client_id")
    locals()["from"] = serializers.DateField(source="start", help_text="First UTC day of the window.")
    to = serializers.DateField(source="end", help_text="Last UTC day of the window (included).")
    jobs = JobCountsSerializer()
    approvalRate = serializers.FloatField(
        source="approval_rate", allow_null=True, min_value=0, max_value=1,
        help_text="Storyboards approved / storyboards completed: of the jobs whose current storyboard was "
                  "completed in the window, the share approved (approve, or the implicit approval of render). "
                  "Null when no storyboard was completed.",
    )
    refinementsPerJob = serializers.FloatField(
        source="refinements_per_job", allow_null=True, min_value=0,
        help_text="Refine requests on the jobs started in the window (whenever made) / those jobs. "
                  "Null when no job started.",
    )
    medianSecondsToApprove = serializers.FloatField(
        source="median_seconds_to_approve", allow_null=True, min_value=0,
        help_text="Median seconds from storyboard completion to its approval, over the approved storyboards "
                  "counted in approvalRate. Null when none.",
    )
    avgCostPerVideo = MoneyField(
        source="avg_cost_per_video", allow_null=True,
        help_text="Everything the ledger booked for the jobs that finished (completed or partially completed) in "
                  "the window, divided by their finished videos (completed variations), in dollars. Null when none.",
    )
    costByCampaign = CampaignCostSerializer(
        source="cost_by_campaign", many=True,
        help_text="Campaigns with spend or finished videos in the window, most spent first.",
    )
    costByDay = DayCostSerializer(source="cost_by_day", many=True, help_text=f"Every day of the {WINDOW}.")
    byPlatform = PlatformUsageSerializer(source="by_platform", many=True, help_text="Every platform, in a fixed order.")


class AnalyticsView(APIView):
    throttle_classes = [AnalyticsThrottle]

    @extend_schema(
        summary="Analytics of a client's jobs and spend",
        description=f"Jobs, approvals, refinements and spend of one client (optionally one campaign) over the "
                    f"{WINDOW} (default: the last 30 days; at most {analytics.MAX_DAYS} days). Money in dollars "
                    f"rounded half-up to cents, rates from 0 to 1. A client you are not a member of, or a campaign "
                    f"of another client: 404.",
        parameters=[AnalyticsQuerySerializer],
        responses={200: AnalyticsSerializer, 404: OpenApiResponse(ErrorSerializer, description="Not one of yours.")},
    )
    def get(self, request: Request) -> Response:
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if not scope_to_user(Client.objects.filter(pk=params["clientId"]), request.user).exists():
            raise NotFound()
        campaign_id = params.get("campaignId")
        if campaign_id and not Campaign.objects.filter(pk=campaign_id, client_id=params["clientId"]).exists():
            raise NotFound()
        report = analytics.client_analytics(params["clientId"], params["from"], params["to"], campaign_id)
        return Response(AnalyticsSerializer(report).data)
