"""Campaign endpoints: `/api/v2/campaigns/` scoped to the caller's clients."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from campaigns.models import Campaign
from clients.models import Client, Membership
from config.tenancy import TenantScopedViewSetMixin, role_for, scope_to_user


class BriefSerializer(serializers.Serializer):
    objective = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    keyMessages = serializers.ListField(
        source="key_messages", child=serializers.CharField(max_length=300), max_length=20, required=False
    )
    cta = serializers.CharField(required=False, allow_blank=True, max_length=300)
    doNotMention = serializers.ListField(
        source="do_not_mention", child=serializers.CharField(max_length=200), max_length=50, required=False
    )


class MemberClientField(serializers.PrimaryKeyRelatedField):
    """A client of the caller's: another tenant's client is "Unknown client." like one that does not exist."""

    default_error_messages = {"does_not_exist": "Unknown client."}

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return scope_to_user(super().get_queryset(), getattr(request, "user", None))


class CampaignSerializer(serializers.ModelSerializer):
    clientId = MemberClientField(source="client", queryset=Client.objects.all())
    brief = BriefSerializer(source="*", required=False)

    class Meta:
        model = Campaign
        fields = ["id", "clientId", "name", "brief"]
        read_only_fields = ["id"]

    def validate_clientId(self, client: Client) -> Client:
        role = role_for(self.context["request"].user, client.id)
        if role is None:
            raise serializers.ValidationError("Unknown client.")
        if role not in Membership.WRITER_ROLES:
            raise PermissionDenied("Viewers may not create or change campaigns for this client.")
        if self.instance is not None and self.instance.client_id != client.id:
            raise serializers.ValidationError("A campaign cannot move to another client.")
        return client


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "clientId", OpenApiTypes.UUID, OpenApiParameter.QUERY, description="Only this client's campaigns."
            )
        ]
    )
)
class CampaignViewSet(TenantScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Campaign.objects.select_related("client")
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        client_id = self.request.query_params.get("clientId")
        if client_id:
            try:
                queryset = queryset.filter(client_id=serializers.UUIDField().to_internal_value(client_id))
            except serializers.ValidationError:
                raise serializers.ValidationError({"clientId": ["Must be a valid UUID."]}) from None
        return queryset
