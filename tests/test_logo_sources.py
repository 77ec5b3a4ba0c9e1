"""A client's logo comes from its own uploaded image or a public http(s) URL, never from a storage name.

Issue 10, defect 1: `brandGuidelines.logoUrl` accepted any string and the render opened it as a storage
name, so a tenant could put another tenant's storyboard image on its own end card.
"""

from __future__ import annotations

import importlib
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from PIL import Image

from clients.models import Client, Membership
from tests.factories import CampaignFactory, ClientFactory, MembershipFactory, UserFactory, stored_image_asset
from tests.jobs import storyboard_complete_job
from tests.local_http import LocalHTTPServer
from tests.media_files import png_bytes
from videogen.models import Asset
from videogen.pipeline.render import _logo_path
from videogen.storage import storyboard_image_name


def logo_asset(client: Client) -> Asset:
    return stored_image_asset(client, size=(20, 10), role="logo")


def _tenant():
    client, owner = ClientFactory(logo_url=""), UserFactory()
    MembershipFactory(user=owner, client=client, role=Membership.Role.OWNER)
    return type("Tenant", (), {"client": client, "owner": owner, "campaign": CampaignFactory(client=client)})


@pytest.fixture
def two_tenants(db, clean_caches):
    return _tenant(), _tenant()


# --- API: what logoUrl / logoAssetId accept ------------------------------------------------------------

REFUSED_LOGO_URLS = [
    "storyboards/1/scene_1.png",
    "uploads/00000000-0000-0000-0000-000000000000/x.png",
    "../../../etc/passwd",
    "/etc/passwd",
    "file:///etc/passwd",
    "s3://bucket/key.png",
    "javascript:alert(1)",
    "http://127.0.0.1/logo.png",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:10.0.0.1]/logo.png",
    "http://metadata.google.internal/logo.png",
]


@pytest.mark.parametrize("value", REFUSED_LOGO_URLS)
def test_logo_url_that_is_not_a_public_http_url_is_refused(two_tenants, value, bearer_client):
    mine, _ = two_tenants
    api = bearer_client(mine.owner)

    response = api.patch(f"/api/v2/clients/{mine.client.id}/", {"brandGuidelines": {"logoUrl": value}}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["brandGuidelines.logoUrl"]
    assert Client.objects.get(pk=mine.client.pk).logo_url == ""


def test_a_new_client_cannot_be_created_with_a_storage_name_as_logo(two_tenants, bearer_client):
    mine, _ = two_tenants
    response = bearer_client(mine.owner).post(
        "/api/v2/clients/", {"name": "Sneaky", "brandGuidelines": {"logoUrl": "storyboards/1/scene_1.png"}},
        format="json",
    )

    assert response.status_code == 400
    assert "brandGuidelines.logoUrl" in response.json()["fields"]
    assert not Client.objects.filter(name="Sneaky").exists()


def test_public_http_logo_url_is_accepted(two_tenants, bearer_client):
    mine, _ = two_tenants
    api = bearer_client(mine.owner)

    response = api.patch(f"/api/v2/clients/{mine.client.id}/",
                         {"brandGuidelines": {"logoUrl": "https://8.8.8.8/brand/logo.png"}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["brandGuidelines"]["logoUrl"] == "https://8.8.8.8/brand/logo.png"


def test_own_uploaded_image_can_be_the_logo(two_tenants, bearer_client):
    mine, _ = two_tenants
    asset = logo_asset(mine.client)

    response = bearer_client(mine.owner).patch(f"/api/v2/clients/{mine.client.id}/",
                                      {"brandGuidelines": {"logoAssetId": str(asset.id)}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["brandGuidelines"]["logoAssetId"] == str(asset.id)
    assert Client.objects.get(pk=mine.client.pk).logo_asset == asset


def test_another_tenants_asset_cannot_be_the_logo_and_is_refused_like_an_unknown_id(two_tenants, bearer_client):
    mine, theirs = two_tenants
    their_asset = logo_asset(theirs.client)
    api = bearer_client(mine.owner)
    url = f"/api/v2/clients/{mine.client.id}/"

    foreign = api.patch(url, {"brandGuidelines": {"logoAssetId": str(their_asset.id)}}, format="json")
    unknown = api.patch(url, {"brandGuidelines": {"logoAssetId": str(uuid.uuid4())}}, format="json")

    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json() == unknown.json()
    assert list(foreign.json()["fields"]) == ["brandGuidelines.logoAssetId"]
    assert Client.objects.get(pk=mine.client.pk).logo_asset is None


# --- Render: where the end card's logo comes from ----------------------------------------------------


def test_render_never_opens_a_stored_logo_string_as_a_storage_name(two_tenants):
    """Legacy or hand-edited data: the logo_url column holds another tenant's storyboard image name."""
    mine, theirs = two_tenants
    their_job = storyboard_complete_job(theirs)
    their_image = storyboard_image_name(their_job.pk, 1)
    assert default_storage.exists(their_image)
    Client.objects.filter(pk=mine.client.pk).update(logo_url=their_image)
    my_job = storyboard_complete_job(mine)
    my_job.refresh_from_db()

    with ExitStack() as stack:
        assert _logo_path(my_job, stack) is None


def test_render_refuses_a_logo_asset_of_another_client(two_tenants):
    mine, theirs = two_tenants
    Client.objects.filter(pk=mine.client.pk).update(logo_asset=logo_asset(theirs.client))
    my_job = storyboard_complete_job(mine)
    my_job.refresh_from_db()

    with ExitStack() as stack:
        assert _logo_path(my_job, stack) is None


def test_render_refuses_a_job_logo_asset_of_another_client(two_tenants):
    mine, theirs = two_tenants
    my_job = storyboard_complete_job(mine, assets=[{"id": str(logo_asset(theirs.client).id), "role": "logo"}])

    with ExitStack() as stack:
        assert _logo_path(my_job, stack) is None


def test_render_uses_the_clients_own_logo_asset(two_tenants):
    mine, _ = two_tenants
    asset = logo_asset(mine.client)
    Client.objects.filter(pk=mine.client.pk).update(logo_asset=asset)
    my_job = storyboard_complete_job(mine)
    my_job.refresh_from_db()

    with ExitStack() as stack:
        path = _logo_path(my_job, stack)
        assert path is not None
        assert Path(path).read_bytes() == default_storage.open(asset.file.name).read()


def _logo_routes(path):
    if path == "/logo.png":
        return 200, {"Content-Type": "image/png"}, png_bytes((20, 10), "blue")
    if path == "/not-an-image":
        return 200, {"Content-Type": "image/png"}, b"<html>hello</html>"
    if path == "/huge":
        return 200, {}, b"\x89PNG" + b"0" * (6 * 1024 * 1024)
    return 404, {}, b""


def test_render_fetches_an_external_logo_url_and_checks_it_decodes(two_tenants, settings):
    mine, _ = two_tenants
    settings.CALLBACK_ALLOWED_HOSTS = ["localhost"]
    with LocalHTTPServer(_logo_routes) as server:
        Client.objects.filter(pk=mine.client.pk).update(logo_url=f"http://localhost:{server.port}/logo.png")
        my_job = storyboard_complete_job(mine)
        my_job.refresh_from_db()
        with ExitStack() as stack:
            path = _logo_path(my_job, stack)
            assert path is not None
            with Image.open(path) as image:
                assert image.format == "PNG" and image.size == (20, 10)
        assert not Path(path).exists()  # the download is cleaned up with the render's stack


@pytest.mark.parametrize("route", ["/not-an-image", "/huge", "/missing"])
def test_render_skips_an_external_logo_that_is_not_a_usable_image(two_tenants, settings, route):
    mine, _ = two_tenants
    settings.CALLBACK_ALLOWED_HOSTS = ["localhost"]
    with LocalHTTPServer(_logo_routes) as server:
        Client.objects.filter(pk=mine.client.pk).update(logo_url=f"http://localhost:{server.port}{route}")
        my_job = storyboard_complete_job(mine)
        my_job.refresh_from_db()
        with ExitStack() as stack:
            assert _logo_path(my_job, stack) is None


def test_render_does_not_fetch_a_logo_url_on_a_private_address(two_tenants, settings):
    mine, _ = two_tenants
    settings.CALLBACK_ALLOWED_HOSTS = []
    with LocalHTTPServer(_logo_routes) as server:
        Client.objects.filter(pk=mine.client.pk).update(logo_url=f"http://127.0.0.1:{server.port}/logo.png")
        my_job = storyboard_complete_job(mine)
        my_job.refresh_from_db()
        with ExitStack() as stack:
            assert _logo_path(my_job, stack) is None
    assert server.requests == []


# --- Existing data ----------------------------------------------------------------------------------


def test_migration_turns_own_storage_names_into_asset_references_and_drops_foreign_ones(two_tenants):
    mine, theirs = two_tenants
    own_logo = logo_asset(mine.client)
    their_logo = logo_asset(theirs.client)
    external = ClientFactory(logo_url="https://cdn.example.com/logo.png")
    Client.objects.filter(pk=mine.client.pk).update(logo_url=own_logo.file.name)
    Client.objects.filter(pk=theirs.client.pk).update(logo_url=own_logo.file.name)  # not theirs: dropped
    migration = importlib.import_module("clients.migrations.0002_logo_asset_and_daily_budget")

    migration.logo_urls_to_assets(apps, None)

    mine_after, theirs_after = Client.objects.get(pk=mine.client.pk), Client.objects.get(pk=theirs.client.pk)
    assert (mine_after.logo_asset, mine_after.logo_url) == (own_logo, "")
    assert (theirs_after.logo_asset, theirs_after.logo_url) == (None, "")
    assert their_logo.pk != own_logo.pk
    assert Client.objects.get(pk=external.pk).logo_url == "https://cdn.example.com/logo.png"

