"""The ops console in a real browser: log in, watch a finished job's storyboard and video load through
signed URLs, cancel a running job with the list action, open the cost review."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.conftest import OPS_PASSWORD
from tests.factories import CostEntryFactory, VideoJobFactory
from tests.jobs import completed_job
from videogen.models import JobStatus, VideoJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_broker(monkeypatch):
    """The cancel action enqueues the prediction cancel task: record it instead of queueing it."""
    from videogen.pipeline import queue

    sent: list[tuple] = []
    monkeypatch.setattr(queue, "dispatcher", lambda func, *args, **kwargs: sent.append((func, *args)))
    return sent


def test_ops_console_end_to_end(live_server, page, screenshot, ops_user, tenant, no_broker):
    finished = completed_job(tenant, video_name="Dawn runner")
    CostEntryFactory(job=finished, amount=Decimal("1.62"))
    running = VideoJobFactory(campaign=tenant.campaign, status=JobStatus.GENERATING_VIDEO, stage="rendering_video",
                              percentage=60, video_name="Still rendering")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", OPS_PASSWORD)
    screenshot("login")
    page.click("input[type=submit]")
    page.wait_for_selector("#ops-module")
    screenshot("admin-index")

    page.goto(f"{live_server.url}/admin/videogen/videojob/")
    page.wait_for_selector("#result_list")
    assert "Dawn runner" in page.content()
    screenshot("job-list")

    page.goto(f"{live_server.url}/admin/videogen/videojob/{finished.pk}/change/")
    images = page.locator("#storyboard img")
    assert images.count() == 3
    page.wait_for_function(
        "() => [...document.querySelectorAll('#storyboard img')].every(img => img.complete && img.naturalWidth > 0)"
    )
    widths = page.eval_on_selector_all("#storyboard img", "imgs => imgs.map(img => img.naturalWidth)")
    assert all(width > 0 for width in widths)
    assert page.locator(".vg-variation > video").count() == 1
    page.wait_for_function("() => document.querySelector('.vg-variation > video').readyState >= 1")
    duration = page.eval_on_selector(".vg-variation > video", "video => video.duration")
    assert duration == pytest.approx(2.0, abs=0.3)
    screenshot("job-page")

    page.goto(f"{live_server.url}/admin/videogen/videojob/")
    page.check(f"input[name=_selected_action][value='{running.pk}']")
    page.select_option("select[name=action]", "cancel_jobs")
    page.click("button[name=index]")
    page.wait_for_selector("ul.messagelist li.success")
    assert page.inner_text("ul.messagelist") == "1 cancelled"
    row = page.locator("#result_list tr", has_text="Still rendering")
    assert "cancelled" in row.inner_text()
    screenshot("running-job-cancelled")
    assert VideoJob.objects.get(pk=running.pk).status == JobStatus.CANCELLED

    page.goto(f"{live_server.url}/admin/videogen/costentry/review/")
    assert page.inner_text("#spent-today") == "$1.62"
    assert page.locator("h1").inner_text() == "Cost review"
    screenshot("cost-review")
