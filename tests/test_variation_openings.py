"""Each variation of the ad opens differently: variations 2 and 3 take the hook scene's other openings
(caption on screen and the spoken line); without them every variation keeps the scene's own copy."""

from __future__ import annotations

import pytest

from tests.factories import SceneFactory, VideoJobFactory
from videogen.pipeline.creative import scene_copy, voiceover_lines

pytestmark = pytest.mark.django_db

OPENINGS = [{"caption": "Ever run at dawn?", "narration": "Ever run at dawn?"},
            {"caption": "The city is your track", "narration": "The city is your track."}]


@pytest.fixture
def scenes():
    job = VideoJobFactory(number_of_variations=3, voiceover={"enabled": True})
    return job, [
        SceneFactory(job=job, number=1, role="hook", caption="Meet the Aero", narration="Meet the Aero.",
                     hook_variants=OPENINGS),
        SceneFactory(job=job, number=2, role="beat", caption="Sprint downtown", narration="Sprint downtown."),
    ]


@pytest.mark.parametrize(("index", "opening"), [(1, ("Meet the Aero", "Meet the Aero.")),
                                                (2, ("Ever run at dawn?", "Ever run at dawn?")),
                                                (3, ("The city is your track", "The city is your track."))])
def test_each_variation_opens_with_its_own_caption_and_line(scenes, index, opening):
    _job, (hook, _beat) = scenes

    assert scene_copy(hook, index) == opening


def test_scenes_without_other_openings_read_the_same_in_every_variation(scenes):
    _job, (_hook, beat) = scenes

    assert {scene_copy(beat, index) for index in (1, 2, 3)} == {("Sprint downtown", "Sprint downtown.")}


def test_a_variation_beyond_the_openings_keeps_the_scenes_own_copy(scenes):
    _job, (hook, _beat) = scenes

    assert scene_copy(hook, 4) == ("Meet the Aero", "Meet the Aero.")


def test_the_voiceover_of_variation_2_speaks_its_own_opening_then_the_same_scenes(scenes):
    job, scene_list = scenes

    first = [line.text for line in voiceover_lines(job, scene_list, 1)]
    second = [line.text for line in voiceover_lines(job, scene_list, 2)]

    assert first[0] == "Meet the Aero." and second[0] == "Ever run at dawn?"
    assert first[1:] == second[1:]
