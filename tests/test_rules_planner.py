"""The rules planner on real-world style briefs: beats, their order, distinct scenes, ad structure
when the brief is short, captions and narration, timings (3-10 scenes adding up to the duration)."""

from __future__ import annotations

import re

import pytest

from videogen.planning.rules import RulesPlanner
from videogen.planning.text import CAPTION_MAX_CHARS, fit_spoken, short_caption, tidy
from videogen.prompts import BrandContext, PromptTooThin

BRAND = BrandContext(
    brand_name="Northwind",
    brand_voice="playful, energetic",
    visual_style="bright colors, high contrast",
    palette=["#FF6B6B", "#4ECDC4"],
    forbidden_elements=["stock photography", "competitor logos"],
    key_messages=["Made from recycled ocean plastic", "Built for speed"],
    cta="Shop now at northwind.example.com",
    do_not_mention=["previous product lines"],
)
SNEAKERS = ("A runner laces up new sneakers at dawn, sprints through neon city streets, pauses on a rooftop as the "
            "sun rises, and the shoes glow as the crowd cheers.")

# (name, brief, duration, the brief's beats in order as scene descriptions)
BRIEFS = [
    ("one long sentence", SNEAKERS, 30, [
        "A runner laces up new sneakers at dawn",
        "The runner sprints through neon city streets",
        "The runner pauses on a rooftop as the sun rises",
        "The shoes glow as the crowd cheers",
    ]),
    ("then-chained sentence", "Show a runner in the city at dawn, then the shoe close-up, then the crowd cheering",
     30, ["A runner in the city at dawn", "The shoe close-up", "The crowd cheering"]),
    ("bullet list", "- Morning coffee ritual at home\n- Steam rising from a ceramic mug\n"
                    "- A barista smiles and hands over an oat latte", 30,
     ["Morning coffee ritual at home", "Steam rising from a ceramic mug",
      "A barista smiles and hands over an oat latte"]),
    ("numbered list with an intro line", "Spring campaign for Northwind trail shoes:\n"
     "1) A hiker ties her laces at a misty trailhead\n2) She bounds over wet rocks, mud splashing\n"
     "3) Close-up: the grippy sole on granite\n4) She reaches the summit as clouds part", 30,
     ["A hiker ties her laces at a misty trailhead", "She bounds over wet rocks, mud splashing",
      "Close-up: the grippy sole on granite", "She reaches the summit as clouds part"]),
    ("two sentences for 60 s", "A family unpacks a picnic by the lake and the kids chase a golden retriever. "
     "At sunset they share lemonade from our new glass bottles as fireflies appear.", 60,
     ["A family unpacks a picnic by the lake", "The kids chase a golden retriever",
      "At sunset they share lemonade from our new glass bottles as fireflies appear"]),
    ("one line", "Our oat latte, made for slow mornings.", 15, ["Our oat latte, made for slow mornings"]),
    ("Spanish", "Una corredora se ata las zapatillas al amanecer, corre por calles de neón, luego descansa en una "
     "azotea mientras sale el sol.", 30,
     ["Una corredora se ata las zapatillas al amanecer", "Corre por calles de neón",
      "Descansa en una azotea mientras sale el sol"]),
    ("German", "Eine Frau öffnet am Morgen das Fenster und dann gießt sie frischen Kaffee in ihre "
     "Lieblingstasse. Danach radelt sie durch die Altstadt.", 30,
     ["Eine Frau öffnet am Morgen das Fenster", "Gießt sie frischen Kaffee in ihre Lieblingstasse",
      "Radelt sie durch die Altstadt"]),
    ("semicolons", "Close-up of dew on a running shoe; a trail runner bounds over rocks; she reaches the summit "
     "as clouds part.", 15,
     ["Close-up of dew on a running shoe", "A trail runner bounds over rocks",
      "She reaches the summit as clouds part"]),
    ("a noun list is one beat", "Friends share coffee, croissants and jam at a sunny table, then the barista "
     "pours latte art.", 30,
     ["Friends share coffee, croissants and jam at a sunny table", "The barista pours latte art"]),
    ("and joining two clauses", "A skateboarder drops into an empty pool and the crowd goes wild.", 15,
     ["A skateboarder drops into an empty pool", "The crowd goes wild"]),
    ("emoji and quotes", "\U0001F525 Our \u201cMidnight Glow\u201d serum \u2728 \u2014 a woman applies it before "
     "bed, wakes up radiant. \U0001F4A4", 15,
     ['Our "Midnight Glow" serum', "A woman applies it before bed", "The woman wakes up radiant"]),
    ("French", "Une femme ouvre une boîte de macarons, puis elle partage le dessert avec ses amis sur la "
     "terrasse.", 15,
     ["Une femme ouvre une boîte de macarons", "Elle partage le dessert avec ses amis sur la terrasse"]),
]


@pytest.fixture
def plan_for():
    return lambda brief, duration, context=BRAND: RulesPlanner().plan_scenes(brief, duration=duration,
                                                                              context=context)


@pytest.mark.parametrize(("name", "brief", "duration", "beats"), BRIEFS, ids=[b[0] for b in BRIEFS])
def test_each_beat_of_the_brief_is_one_scene_in_order(plan_for, name, brief, duration, beats):
    plan = plan_for(brief, duration)

    story = [scene.description for scene in plan.scenes if scene.role == "beat"]
    assert story == beats


@pytest.mark.parametrize(("name", "brief", "duration", "beats"), BRIEFS, ids=[b[0] for b in BRIEFS])
def test_every_beat_appears_in_exactly_one_scene_and_no_two_scenes_share_a_description(
    plan_for, name, brief, duration, beats
):
    plan = plan_for(brief, duration)

    descriptions = [scene.description for scene in plan.scenes]
    assert len(set(descriptions)) == len(descriptions)
    for beat in beats:
        assert sum(beat in description for description in descriptions) == 1, beat


@pytest.mark.parametrize(("name", "brief", "duration", "beats"), BRIEFS, ids=[b[0] for b in BRIEFS])
def test_timings_cover_the_duration_with_3_to_10_scenes(plan_for, name, brief, duration, beats):
    plan = plan_for(brief, duration)

    assert 3 <= len(plan.scenes) <= 10
    assert len(plan.scenes) == max(3, duration // 6)
    assert sum(scene.duration_seconds for scene in plan.scenes) == duration
    starts = [scene.start_seconds for scene in plan.scenes]
    assert starts == [sum(s.duration_seconds for s in plan.scenes[:i]) for i in range(len(plan.scenes))]
    assert [scene.number for scene in plan.scenes] == list(range(1, len(plan.scenes) + 1))


@pytest.mark.parametrize(("name", "brief", "duration", "beats"), BRIEFS, ids=[b[0] for b in BRIEFS])
def test_captions_are_short_copy_and_narration_fits_the_scene(plan_for, name, brief, duration, beats):
    for scene in plan_for(brief, duration).scenes:
        assert 0 < len(scene.caption) <= CAPTION_MAX_CHARS
        assert scene.caption == scene.caption.strip() and not scene.caption.endswith((" the", " a", " and", "."))
        if scene.narration:
            assert scene.narration.endswith((".", "!", "?"))
            assert len(scene.narration.split()) <= int(scene.duration_seconds * 2.5)


@pytest.mark.parametrize(("name", "brief", "duration", "beats"), BRIEFS, ids=[b[0] for b in BRIEFS])
def test_prompts_are_clean_and_carry_the_brand_look(plan_for, name, brief, duration, beats):
    for scene in plan_for(brief, duration).scenes:
        assert not re.search(r"\.\.|,\.|\s[,.;]|;\.|\?\.|!\.|\s{2}", scene.prompt), scene.prompt
        assert "Style: bright colors, high contrast." in scene.prompt
        assert "#FF6B6B" in scene.prompt and "Mood: playful, energetic." in scene.prompt


def test_the_sneaker_brief_gives_four_beats_then_the_campaign_cta(plan_for):
    plan = plan_for(SNEAKERS, 30)

    assert [scene.role for scene in plan.scenes] == ["beat", "beat", "beat", "beat", "cta"]
    assert [scene.caption for scene in plan.scenes] == [
        "Lace up new sneakers at dawn", "Sprint through neon city streets", "Pause on a rooftop as the sun rises",
        "The shoes glow as the crowd cheers", "Shop now at northwind.example.com",
    ]
    assert plan.scenes[-1].narration == "Shop now at northwind.example.com."


def test_a_short_brief_is_filled_with_ad_structure_hook_first_cta_last(plan_for):
    plan = plan_for("Our oat latte, made for slow mornings.", 30)

    assert [scene.role for scene in plan.scenes] == ["hook", "beat", "product", "message", "cta"]
    assert plan.scenes[1].description == "Our oat latte, made for slow mornings"
    assert plan.scenes[2].description == "Product close-up: the oat latte in crisp detail"
    assert plan.scenes[3].caption == "Made from recycled ocean plastic"
    assert plan.scenes[4].caption == "Shop now at northwind.example.com"
    assert plan.scenes[0].duration_seconds < plan.scenes[1].duration_seconds  # a quick hook


def test_the_hook_gets_two_other_openings_for_the_variations_and_no_other_scene_has_any(plan_for):
    plan = plan_for("Our oat latte, made for slow mornings.", 30)

    hook, *others = plan.scenes
    assert hook.hook_variants == (("Ready for the oat latte?", "Ready for the oat latte?"),
                                  ("All eyes on the oat latte", "All eyes on the oat latte."))
    assert all(scene.hook_variants == () for scene in others)


def test_a_plan_that_opens_on_a_beat_still_gets_other_openings_about_the_product(plan_for):
    plan = plan_for(SNEAKERS, 30)

    assert plan.scenes[0].role == "beat"
    assert [caption for caption, _ in plan.scenes[0].hook_variants] == [
        "Ready for the new sneakers?", "All eyes on the new sneakers"]


def test_without_a_product_or_brand_a_beat_opening_has_no_other_openings(plan_for):
    hike = ("Friends hike up a misty ridge at sunrise, share a thermos at the top and watch the clouds "
            "roll away.")

    plan = plan_for(hike, 15, BrandContext())

    assert plan.scenes[0].role == "beat"
    assert plan.scenes[0].hook_variants == ()


def test_a_one_beat_brief_for_60_seconds_fills_ten_distinct_scenes_without_repeating_the_beat(plan_for):
    plan = plan_for("Our oat latte, made for slow mornings.", 60)

    assert len(plan.scenes) == 10
    assert sum("slow mornings" in scene.description for scene in plan.scenes) == 1
    assert len({scene.description for scene in plan.scenes}) == 10
    assert len({scene.prompt for scene in plan.scenes}) == 10
    assert plan.scenes[-1].role == "cta" and plan.scenes[0].role == "hook"


def test_without_brand_or_campaign_a_one_beat_brief_still_fills_ten_distinct_scenes(plan_for):
    plan = plan_for("A cyclist rides along the coast road at sunrise.", 60, BrandContext())

    assert len(plan.scenes) == 10 and len({scene.description for scene in plan.scenes}) == 10
    assert all(scene.caption for scene in plan.scenes)


def test_a_call_to_action_in_the_brief_closes_the_ad_instead_of_the_campaign_cta(plan_for):
    brief = ("Open on a steaming bowl of ramen, a chef tosses noodles in a wok, friends slurp and laugh at the "
             "counter. End with 'Order now on the Umami app'.")

    plan = plan_for(brief, 30)

    assert [s.description for s in plan.scenes if s.role == "beat"] == [
        "A steaming bowl of ramen", "A chef tosses noodles in a wok", "Friends slurp and laugh at the counter",
    ]
    assert plan.scenes[-1].role == "cta" and plan.scenes[-1].caption == "Order now on the Umami app"
    assert not any("northwind.example.com" in scene.caption for scene in plan.scenes)


def test_a_closing_imperative_line_is_the_call_to_action(plan_for):
    plan = plan_for("A dog fetches a frisbee on the beach, then naps on a new Cozy bed. Shop the bed today.", 15)

    assert plan.scenes[-1].role == "cta" and plan.scenes[-1].caption == "Shop the bed today"


def test_a_very_long_brief_shares_scenes_between_neighbouring_beats_in_order(plan_for):
    clauses = [f"a dancer number {n} spins under the lights" for n in range(1, 15)]
    brief = ", then ".join(clauses) + "."

    plan = plan_for(brief, 60)

    assert len(plan.scenes) == 10
    joined = " | ".join(scene.description for scene in plan.scenes)
    positions = [joined.find(f"number {n} spins") for n in range(1, 15)]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    for n in range(1, 15):
        assert sum(f"number {n} spins" in scene.description for scene in plan.scenes) == 1


def test_explicit_scene_lists_keep_their_own_scenes_and_count(plan_for):
    brief = "Scene 1: rooftop at dawn. Scene 2: city sprint. Scene 3: shoe close-up. Scene 4: finish line."

    plan = plan_for(brief, 30)

    assert [scene.description for scene in plan.scenes] == ["Rooftop at dawn", "City sprint", "Shoe close-up",
                                                           "Finish line"]


def test_two_explicit_scenes_are_completed_with_ad_structure_not_repeated(plan_for):
    plan = plan_for("Scene 1: a rooftop at dawn. Scene 2: a runner sprints across a bridge.", 15)

    assert len(plan.scenes) == 3
    assert [scene.role for scene in plan.scenes] == ["beat", "beat", "cta"]


def test_forbidden_and_do_not_mention_never_reach_prompts_captions_or_narration(plan_for):
    context = BrandContext(forbidden_elements=["stock photography"], do_not_mention=["previous product lines"],
                           key_messages=["Better than previous product lines"], cta="Shop now")
    brief = "A runner in stock photography style, then previous product lines on a shelf, then the new shoe"

    plan = plan_for(brief, 30, context)

    for scene in plan.scenes:
        for text in (scene.prompt, scene.description, scene.caption, scene.narration):
            assert "stock photography" not in text.lower() and "previous product lines" not in text.lower()
        assert scene.negative_prompt == "stock photography, previous product lines"


def test_no_doubled_punctuation_where_beats_end_with_their_own(plan_for):
    plan = plan_for("Meet the product. Then the product... glows! Then a crowd cheers?", 15)

    for scene in plan.scenes:
        assert ".." not in scene.prompt.replace("...", "") and "!." not in scene.prompt and "?." not in scene.prompt


def test_a_thin_brief_asks_questions_instead_of_planning(plan_for):
    with pytest.raises(PromptTooThin):
        plan_for("sneakers", 15)


@pytest.mark.parametrize(("text", "expected"), [
    ("Pause on a rooftop as the sun rises while the city wakes up below", "Pause on a rooftop"),
    ("Una corredora se ata las zapatillas al amanecer en la ciudad", "Una corredora se ata las zapatillas"),
    ("Supercalifragilisticexpialidocious " * 4, "Supercalifragilisticexpialidocious"),
])
def test_long_captions_are_shortened_at_a_phrase_boundary(text, expected):
    assert short_caption(text, 42) == expected


@pytest.mark.parametrize(("raw", "clean"), [
    ("A shoe.. glowing , bright", "A shoe. glowing, bright"),
    ("Style: neon,. Mood: fun;.", "Style: neon. Mood: fun."),
    ("Wow!. Really?.", "Wow! Really?"),
])
def test_tidy_joins(raw, clean):
    assert tidy(raw) == clean


@pytest.mark.parametrize(("line", "seconds", "spoken"), [
    ("Friends cheer as she crosses the finish line", 3, "Friends cheer."),
    ("Lace up new sneakers at dawn", 6, "Lace up new sneakers at dawn."),
])
def test_spoken_lines_that_run_long_are_shortened_at_a_phrase_boundary(line, seconds, spoken):
    assert fit_spoken(line, seconds) == spoken


def test_camera_notes_stay_out_of_captions(plan_for):
    plan = plan_for("Scene 1: a runner at dawn. Scene 2: A close-up of the recycled-material sole hitting wet "
                    "pavement. Scene 3: friends cheer.", 15)

    assert plan.scenes[1].caption == "The recycled-material sole hitting wet pavement"
    assert "close-up" in plan.scenes[1].description.lower()
