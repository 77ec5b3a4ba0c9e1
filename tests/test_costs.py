"""The cost estimate, exactly: max(3, duration // 6) scene images + $0.10/s per variation (+ $0.25 upscaled)."""

from decimal import Decimal

import pytest

from videogen.pricing import estimate_cost, scene_count_for


@pytest.mark.parametrize(("duration", "scenes"), [(15, 3), (30, 5), (60, 10)])
def test_scene_count_is_one_per_six_seconds_with_a_floor_of_three(duration, scenes):
    assert scene_count_for(duration) == scenes


def test_simple_30s_tiktok_costs_three_dollars_two_cents():
    estimate = estimate_cost(duration=30, number_of_variations=1, style_presets=[])
    assert estimate.storyboard == Decimal("0.015")
    assert estimate.video == Decimal("3.00")
    assert estimate.total == Decimal("3.02")  # 3.015 rounded half-up


def test_hd_preset_prices_images_as_flux_pro_for_every_variation():
    estimate = estimate_cost(duration=30, number_of_variations=3, style_presets=["HD"])
    assert estimate.storyboard == Decimal("0.275")
    assert estimate.video == Decimal("9.00")
    assert estimate.total == Decimal("9.28")


def test_upscale_adds_a_quarter():
    estimate = estimate_cost(duration=60, number_of_variations=1, style_presets=["upscale"])
    assert estimate.as_dict() == {"storyboard": "0.03", "video": "6.00", "upscale": "0.25", "total": "6.28"}


def test_free_style_presets_do_not_change_the_price():
    plain = estimate_cost(duration=15, number_of_variations=1, style_presets=[])
    styled = estimate_cost(duration=15, number_of_variations=1, style_presets=["cinematic", "retro"])
    assert plain.total == styled.total == Decimal("1.51")
