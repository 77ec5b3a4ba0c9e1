"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against pytest-django's live_server.

`make browser-deps` installs Chromium; without it these tests are skipped with a clear reason.
Playwright's sync API keeps an event loop running in the test thread while the browser is open,
so Django's async-safety check is relaxed for exactly that time (the test's own ORM calls are
ordinary synchronous code), and the connections opened meanwhile are closed before it stops.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture
def page(monkeypatch) -> Iterator[object]:
    """A fresh browser page; the browser and Playwright's loop live only as long as the test."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs, Django keeps this thread's connections in a separate,
            # context-local slot: close them now, or they outlive the test (PostgreSQL then refuses
            # to drop the test database: "being accessed by other users").
            connections.close_all()


@pytest.fixture
def screenshot(page, request):
    """`screenshot("step")` saves test-artifacts/<test name>/<n>-step.png (full page)."""
    folder = Path(settings.BASE_DIR) / "test-artifacts" / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


OPS_PASSWORD = "ops-password-123"


@pytest.fixture
def ops_user(transactional_db):
    """A superuser for the console, username "ops" (password OPS_PASSWORD)."""
    from tests.factories import UserFactory

    user = UserFactory(username="ops", is_staff=True, is_superuser=True)
    user.set_password(OPS_PASSWORD)
    user.save()
    return user


def log_in(page, live_server, username: str = "ops", password: str = OPS_PASSWORD) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#ops-module")
