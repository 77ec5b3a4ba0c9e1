"""The OpenAPI schema validates without warnings and is served with its Swagger UI."""

from __future__ import annotations

import re

import yaml
from django.conf import settings
from django.core.management import call_command


def test_schema_validates_without_warnings(tmp_path, db):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert "/api/v2/upload-asset" in schema["paths"]


def test_schema_describes_upload_as_multipart_with_its_answers(tmp_path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    operation = yaml.safe_load(out.read_text())["paths"]["/api/v2/upload-asset"]["post"]

    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"201", "400", "401", "403", "404", "429"} <= set(operation["responses"])


def test_schema_endpoint_answers(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi" in response.content


def test_swagger_ui_answers(anon, db):
    response = anon.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_swagger_ui_loads_only_our_own_static_files(anon, db):
    """/api/docs/ works without network: every script, stylesheet and icon is one of our static files."""
    from django.contrib.staticfiles import finders

    html = anon.get("/api/docs/").content.decode()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    references += re.findall(r"""["']([^"'\s]+\.(?:js|css|png))["']""", html)

    assert references
    assert not [ref for ref in references if "//" in ref], "a CDN or other host is referenced"
    static = sorted({ref for ref in references if ref.startswith(settings.STATIC_URL)})
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in static)
    assert [ref for ref in static if not finders.find(ref.removeprefix(settings.STATIC_URL))] == []
