"""factory-boy factories for every model tests touch."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from campaigns.models import Campaign
from clients.models import Client, Membership
from tests import media_files
from videogen.models import Asset, CostEntry, JobStatus, Prediction, Scene, Variation, VideoJob


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-12345678")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory-boy hook signature
        if create:
            obj.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Brand {n}")
    brand_voice = "playful, energetic, Gen-Z friendly"
    visual_style = "bright colors, high contrast, minimal text"
    forbidden_elements = factory.LazyFunction(lambda: ["competitor logos", "stock photography"])
    color_palette = factory.LazyFunction(lambda: ["#FF6B6B", "#4ECDC4", "#FFE66D"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    role = Membership.Role.OWNER


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    objective = "Launch new sneaker line targeting 18-25 urban athletes"
    key_messages = factory.LazyFunction(lambda: ["sustainability", "performance", "street style"])
    cta = "Shop now at example.com/sneakers"
    do_not_mention = factory.LazyFunction(lambda: ["previous product lines"])


class VideoJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VideoJob

    campaign = factory.SubFactory(CampaignFactory)
    client = factory.SelfAttribute("campaign.client")
    created_by = factory.SubFactory(UserFactory)
    video_name = factory.Sequence(lambda n: f"Ad {n}")
    creative_prompt = "Show a runner in the city at dawn, then the shoe close-up, then the crowd cheering"
    duration = 15
    platform = "tiktok"
    aspect_ratio = "9:16"
    number_of_variations = 1
    export_formats = factory.LazyFunction(lambda: ["mp4"])
    status = JobStatus.GENERATING_STORYBOARD
    estimated_cost = Decimal("1.51")


class SceneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scene

    job = factory.SubFactory(VideoJobFactory)
    number = factory.Sequence(lambda n: n + 1)
    description = "A runner in the city"
    prompt = "A runner in the city, bright colors"
    start_seconds = 0
    duration_seconds = 5


class VariationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variation

    job = factory.SubFactory(VideoJobFactory)
    index = factory.Sequence(lambda n: n + 1)


class PredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prediction

    job = factory.SubFactory(VideoJobFactory)
    purpose = Prediction.Purpose.STORYBOARD
    provider = "replicate"
    model = "black-forest-labs/flux-schnell"
    input_hash = factory.Sequence(lambda n: f"{n:064x}")
    external_id = factory.Sequence(lambda n: f"pred{n}")
    status = Prediction.Status.SUCCEEDED


class CostEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostEntry

    job = factory.SubFactory(VideoJobFactory)
    client = factory.SelfAttribute("job.client")
    campaign = factory.SelfAttribute("job.campaign")
    kind = CostEntry.Kind.VIDEO
    amount = Decimal("1.0000")


class JobEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "videogen.JobEvent"

    job = factory.SubFactory(VideoJobFactory)
    kind = "status"
    from_status = JobStatus.GENERATING_STORYBOARD
    to_status = JobStatus.STORYBOARD_COMPLETE
    message = ""


class BudgetSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "videogen.BudgetSettings"

    daily_soft_limit = None
    daily_hard_limit = None


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "videogen.Asset"

    client = factory.SubFactory(ClientFactory)
    file = factory.Sequence(lambda n: f"uploads/asset-{n}.png")
    type = "image"
    mime_type = "image/png"
    size = 2048
    width = 64
    height = 96
    filename = "product.png"


def stored_image_asset(client: Client, *, size: tuple[int, int] = (8, 8), colour: str = "red", **fields) -> Asset:
    """An image asset whose PNG really is in storage, under the name an upload gets."""
    body = media_files.png_bytes(size, colour)
    asset_id = uuid.uuid4()
    name = default_storage.save(f"uploads/{client.id}/{asset_id}.png", io.BytesIO(body))
    fields = {"filename": "logo.png", **fields}
    return AssetFactory(id=asset_id, client=client, file=name, size=len(body), width=size[0], height=size[1], **fields)
