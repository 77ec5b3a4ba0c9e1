"""The OpenAPI schema validates without warnings and is served with its Swagger UI."""

from __future__ import annotations

import yaml
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
