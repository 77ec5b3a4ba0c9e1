"""Clients, memberships and `/me` endpoints."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients import services
from clients.models import Client, Membership, hex_colour
from config.errors import Conflict, ErrorSerializer
from config.tenancy import TenantScopedViewSetMixin, role_for
from videogen.netguard import UnsafeURL


class BrandGuidelinesSerializer(serializers.Serializer):
    brandVoice = serializers.CharField(source="brand_voice", max_length=500, required=False, allow_blank=True)
    visualStyle = serializers.CharField(source="visual_style", max_length=500, required=False, allow_blank=True)
    forbiddenElements = serializers.ListField(
        source="forbidden_elements", child=serializers.CharField(max_length=200), max_length=50, required=False
    )
    logoUrl = serializers.CharField(
        source="logo_url", max_length=1000, required=False, allow_blank=True,
        help_text="An external http(s) image on the public internet (fetched at render time). For an uploaded "
                  "logo use `logoAssetId`.",
    )
    logoAssetId = serializers.UUIDField(
        source="logo_asset_id", required=False, allow_null=True,
        help_text="The id of one of this client's uploaded image assets, used as its logo.",
    )
    colorPalette = serializers.ListField(
        source="color_palette",
        child=serializers.CharField(max_length=7, validators=[hex_colour]),
        max_length=12,
        required=False,
    )


    def validate_logoUrl(self, value: str) -> str:  # noqa: N802 - DRF names validators after the field
        try:
            services.check_logo_url(value)
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_logoAssetId(self, value: Any) -> Any:  # noqa: N802
        client = self.root.instance if isinstance(self.root.instance, Client) else None
        if value is not None and not services.is_own_logo_asset(client, value):
            raise serializers.ValidationError("No image asset with this id for this client.")
        return value


class ClientSerializer(serializers.ModelSerializer):
    brandGuidelines = BrandGuidelinesSerializer(source="*", required=False)

    class Meta:
        model = Client
        fields = ["id", "name", "brandGuidelines"]
        read_only_fields = ["id"]


class ClientViewSet(TenantScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Client.objects.all()
    serializer_class = ClientSerializer

    def perform_create(self, serializer: ClientSerializer) -> None:
        serializer.instance = services.create_client(user=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance: Client) -> None:
        if role_for(self.request.user, instance.id) != Membership.Role.OWNER:
            raise PermissionDenied("Only the client's owners may delete it.")
        instance.delete()


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["username", "role"]
        extra_kwargs = {"role": {"required": True}}  # no silent default role when adding or changing a member

    def validate_username(self, value: str) -> str:
        if not get_user_model().objects.filter(username=value).exists():
            raise serializers.ValidationError("No user with this username.")
        return value


class IsClientOwner(permissions.BasePermission):
    message = "Only the client's owners manage its members."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return role_for(request.user, view.kwargs["client_pk"]) == Membership.Role.OWNER


_CLIENT_PK = OpenApiParameter("client_pk", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The client's id.")
_USERNAME = OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH, description="The member's username.")


_LAST_OWNER = OpenApiResponse(ErrorSerializer, description="`last_owner`: a client must keep at least one owner.")


@extend_schema_view(
    list=extend_schema(parameters=[_CLIENT_PK]),
    create=extend_schema(parameters=[_CLIENT_PK], description="Adds a member, or changes an existing member's role.",
                         responses={201: MembershipSerializer, 409: _LAST_OWNER}),
    destroy=extend_schema(parameters=[_CLIENT_PK, _USERNAME], responses={204: None, 409: _LAST_OWNER}),
)
class ClientMembersViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """`/clients/{id}/members/`: members list for any member; owners add, change and remove."""

    serializer_class = MembershipSerializer
    permission_classes = [permissions.IsAuthenticated, IsClientOwner]
    lookup_field = "user__username"
    lookup_url_kwarg = "username"
    lookup_value_regex = "[^/]+"  # usernames may contain dots (john.doe)
    pagination_class = None

    def check_permissions(self, request: Request) -> None:
        # A client the caller is not a member of does not exist for them: 404, not 403.
        if request.user.is_authenticated:
            try:
                role = role_for(request.user, self.kwargs.get("client_pk"))
            except (ValueError, DjangoValidationError):  # not a UUID: no such client
                role = None
            if role is None:
                raise NotFound()
        super().check_permissions(request)

    def get_client(self) -> Client:
        return get_object_or_404(Client, pk=self.kwargs["client_pk"])

    def get_queryset(self) -> QuerySet:
        return Membership.objects.filter(client_id=self.kwargs["client_pk"]).select_related("user")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            membership = services.set_membership(
                client=self.get_client(),
                username=serializer.validated_data["user"]["username"],
                role=serializer.validated_data["role"],
                actor=request.user,
            )
        except services.LastOwner:
            raise Conflict("A client must keep at least one owner.", code="last_owner") from None
        except services.NotOwner:
            raise PermissionDenied(IsClientOwner.message) from None
        return Response(MembershipSerializer(membership).data, status=201)

    def perform_destroy(self, instance: Membership) -> None:
        try:
            services.remove_membership(instance, actor=self.request.user)
        except services.LastOwner:
            raise Conflict("A client must keep at least one owner.", code="last_owner") from None
        except services.NotOwner:
            raise PermissionDenied(IsClientOwner.message) from None


class MeClientSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="client.id")
    name = serializers.CharField(source="client.name")
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    clients = MeClientSerializer(many=True, source="memberships_list")


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        user.memberships_list = list(Membership.objects.filter(user=user).select_related("client"))
        return Response(MeSerializer(user).data)
