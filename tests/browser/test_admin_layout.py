"""The ops console on a common laptop screen (1366 x 768)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.conftest import log_in
from tests.factories import CampaignFactory, ClientFactory, VideoJobFactory
from videogen.models import JobStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_job_list_fits_a_1366_pixel_wide_screen(live_server, page, screenshot, ops_user):
    campaign = CampaignFactory(client=ClientFactory(name="Northwind Running Company"), name="Spring launch 2026")
    for status, stage in ((JobStatus.GENERATING_VIDEO, "rendering_video"), (JobStatus.PARTIALLY_COMPLETED, "completed"),
                          (JobStatus.NEEDS_CLARIFICATION, "needs_clarification")):
        VideoJobFactory(campaign=campaign, status=status, stage=stage, platform="youtube", percentage=60,
                        video_name="City runners at dawn, shoe close-up, crowd cheering",
                        estimated_cost=Decimal("12.34"), actual_cost=Decimal("15.10"))
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/videogen/videojob/")
    page.wait_for_selector("#result_list")
    screenshot("job-list-1366")

    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
    last_header = page.locator("#result_list thead th").last
    assert last_header.bounding_box()["x"] + last_header.bounding_box()["width"] <= 1366
