"""`POST /api/v2/upload-asset` and the upload handler that keeps oversized bodies off the server.

The view is thin: it checks who may upload for which client, then hands the file to
`videogen.assets.store_asset`, which judges it by content and stores it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.models import Client, Membership
from config.errors import ApiError, ErrorSerializer
from config.tenancy import role_for
from config.throttles import UploadThrottle
from videogen import assets
from videogen.models import Asset
from videogen.signed_urls import sign_media_url

#: Room for the multipart framing and the small form fields around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def _too_large_detail() -> str:
    return f"Files may be at most {settings.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."


class FileTooLarge(ApiError, RequestDataTooBig):
    """Raised while the body is still streaming in.

    As an ApiError, DRF views answer 400 `file_too_large`; as Django's RequestDataTooBig
    (a SuspiciousOperation), any non-DRF view (admin) answers a plain 400 instead of a 500.
    """

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(assets.FILE_TOO_LARGE, detail or _too_large_detail(), status.HTTP_400_BAD_REQUEST)


class SizeLimitedUploadHandler(FileUploadHandler):
    """First upload handler: refuses bodies and files over `settings.MAX_UPLOAD_BYTES` while streaming.

    A declared Content-Length over the limit is refused before a byte is read. Otherwise
    each chunk is counted on its way to the next handler (which spools to a temporary file);
    the first chunk past the limit stops the upload, the partial temporary file is closed
    (and so deleted), and the rest of the body is never read.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.exceeded = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's signature
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        if content_length > settings.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise FileTooLarge()
        return None  # let Django's parser and the next handlers do the work

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.MAX_UPLOAD_BYTES:
            self.exceeded = True
            # connection_reset: Django closes the handlers' files and does not drain the body.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler returns the file object

    def upload_complete(self) -> None:
        if self.exceeded:
            raise FileTooLarge()


@extend_schema_field(
    {"type": "string", "enum": [choice.value for choice in Asset.Role], "description": "What the asset is for."},
    # Its own component: "role" is also a membership's role, and both enums want the same name.
    component_name="AssetRole",
)
class AssetRoleField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Asset.Role.choices, **kwargs)


class UploadAssetRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file is judged like any other: corrupt_file
        help_text="JPEG, PNG, MP4 or MOV, at most 50 MB. Judged by content, not by name.",
    )
    clientId = serializers.UUIDField(help_text="The client the asset belongs to; you must be its owner or editor.")
    role = AssetRoleField(required=False, allow_blank=True)


class AssetSerializer(serializers.ModelSerializer):
    clientId = serializers.UUIDField(source="client_id", read_only=True)
    url = serializers.SerializerMethodField(help_text="Signed, expiring URL usable directly in <img>/<video>.")
    mimeType = serializers.CharField(source="mime_type", read_only=True)
    durationSeconds = serializers.FloatField(source="duration_seconds", read_only=True, allow_null=True)
    role = AssetRoleField(read_only=True, allow_null=True)

    class Meta:
        model = Asset
        fields = [
            "id", "clientId", "url", "type", "mimeType", "size", "width", "height", "durationSeconds", "filename",
            "role",
        ]  # fmt: skip
        read_only_fields = fields

    def get_url(self, asset: Asset) -> str:
        return sign_media_url(asset.file.name, request=self.context.get("request"), filename=asset.filename or None)

    def to_representation(self, instance: Asset) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["role"] = instance.role or None
        return data


def _client_for_upload(user: Any, client_id: Any) -> Client:
    """The client to upload for: 404 if the caller is not a member (no existence leak), 403 for viewers."""
    role = role_for(user, client_id)
    if role is None:
        raise NotFound()
    if role not in Membership.WRITER_ROLES:
        raise PermissionDenied("Viewers may not upload assets for this client.")
    return Client.objects.get(pk=client_id)


class UploadAssetView(APIView):
    """Uploads an image or video for a client's generations (scene, product or logo assets)."""

    parser_classes = [MultiPartParser]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [UploadThrottle]

    @extend_schema(
        operation_id="upload_asset",
        request={"multipart/form-data": UploadAssetRequestSerializer},
        responses={
            201: AssetSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="`file_too_large`, `unsupported_type`, `corrupt_file`; `validation_error` with `fields`.",
            ),
            401: OpenApiResponse(ErrorSerializer, description="Missing or invalid bearer token."),
            403: OpenApiResponse(ErrorSerializer, description="Viewers may not upload."),
            404: OpenApiResponse(ErrorSerializer, description="Unknown client, or not one of yours."),
            415: OpenApiResponse(ErrorSerializer, description="The body is not multipart/form-data."),
            429: OpenApiResponse(ErrorSerializer, description="More than 10 uploads a minute; see Retry-After."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = UploadAssetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client = _client_for_upload(request.user, data["clientId"])
        try:
            asset = assets.store_asset(client=client, upload=data["file"], user=request.user, role=data.get("role", ""))
        except assets.AssetRejected as rejected:
            raise ApiError(rejected.code, rejected.detail) from None
        return Response(AssetSerializer(asset, context={"request": request}).data, status=status.HTTP_201_CREATED)
