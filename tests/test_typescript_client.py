"""The OpenAPI schema yields TypeScript types the frontend can use: scripts/check_typescript.sh exports
the schema, generates types with openapi-typescript and type-checks frontend-check/usage.ts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("npm") is None or shutil.which("npx") is None,
                    reason="npm/npx not installed: the TypeScript check needs Node 20+ and npm")
def test_generated_typescript_types_type_check_a_typed_use_of_the_flow():
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "check_typescript.sh")], cwd=ROOT, capture_output=True, text=True,
        timeout=600, env={**os.environ, "PYTHON": sys.executable},
    )

    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert "TypeScript client types: OK" in result.stdout
