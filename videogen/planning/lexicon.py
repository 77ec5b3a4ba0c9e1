"""Just enough English (and a little Spanish, German, French) for the rules planner to find clauses.

No tagger: a list of the action verbs ad briefs use, their inflections, and a few word classes.
Being wrong here costs little: an unsplit clause stays one longer beat, never a broken one.
"""

from __future__ import annotations

import re

_BASE_VERBS = """
appear apply arrive bake balance bark bask beam bite bloom blow board bounce brew brush build burst buy
carry cascade catch celebrate charge chase cheer chop clap clean click climb close collapse come cook crash
crawl cross cruise cuddle cut cycle dance dart dash deliver dig dip dive drag draw dress drift drink drip
drive drop eat emerge enter escape explode explore fade fall feel fill finish fix flash flicker flip float
flow fly fold follow gaze get give glance glide glow go grab greet grill grin grow hand hang head hike hit
hold hop hover hug hurry jog join jump kick kiss knit laugh lace land launch lead lean leap leave lie lift
light listen load look lower make march meet melt move nod open order pack paddle paint pan pass pause pay
pedal pick place plant play point pop pose pour pull push put race rain reach read relax rest return reveal
ride rise roll run rush sail scan score scroll serve set shake share shine shop shout show shower sign sing
sip sit skate ski sleep slice slide smash smell smile snap soar speed spin splash spray sprint squeeze stand
stare start step stir stop stretch stride stroll surf sweep swim swing swipe take talk tap taste tear throw
tie tilt toss touch train travel turn type unbox unfold unwrap unzip vanish wait wake walk wander watch wave
wear whisper win wink wipe wrap write yawn zip zoom slurp unpack adjust knead sizzle savor savour enjoy admire
embrace
"""
_IRREGULAR = """
ran began bit blew broke brought built bought caught chose came cut did drew drank drove ate fell felt
flew forgot froze got gave went grew hung held hit kept knew laid led left let lay lit lost made met paid put
read rode rang rose ran said saw sold sent set shook shone shot showed shut sang sank sat slept slid spoke
spun stood stole stuck swept swam swung took taught tore told thought threw understood woke wore won wrote
is are was were has have had does
"""
_ING_NOUNS = frozenset(
    "morning evening ceiling building clothing packaging lighting wedding king ring spring string wing thing "
    "nothing something everything anything sibling ending opening painting setting pudding icing frosting "
    "stuffing filling topping dressing seasoning bedding sling swing earring awning railing".split()
)
_ED_NOUNS = frozenset("bed red shed speed seed need feed weed sled sacred hundred naked wicked".split())

DETERMINERS = frozenset(
    "a an the this that these those his her their its our your my some two three four five several every "
    "each many few".split()
)
PRONOUNS = frozenset("she he they we you i it".split())
POSSESSIVES = {"his": "your", "her": "your", "their": "your", "our": "your", "my": "your"}
PERSON_NOUNS = frozenset(
    """runner runners woman women man men girl girls boy boys chef chefs barista baristas athlete athletes
    friend friends family families couple couples kid kids child children student students mom dad mother
    father parent parents customer customers hiker hikers skater skaters dancer dancers cyclist cyclists rider
    riders driver drivers surfer surfers player players teen teens teenager teenagers guy guys lady ladies
    person people grandma grandpa baby toddler nurse doctor worker workers founder owner gamer gamers traveler
    travelers traveller travellers model models swimmer swimmers climber climbers artist artists influencer
    creator creators shopper shoppers commuter commuters dog cat""".split()
)
PREPOSITIONS = frozenset(
    "at on in into onto through across over under near by beside behind before after around along past toward "
    "towards from with without within up down off out".split()
)


def _inflect(base: str) -> set[str]:
    forms = {base}
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    elif base.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms |= {base + "es", base + "ed"}
    else:
        forms.add(base + "s")
        forms.add(base + "d" if base.endswith("e") else base + "ed")
    if base.endswith("e") and not base.endswith("ee"):
        forms.add(base[:-1] + "ing")
    else:
        forms.add(base + "ing")
    if re.fullmatch(r"[^aeiou]*[aeiou][bdglmnprt]", base):  # stop -> stopping, stopped
        forms |= {base + base[-1] + "ing", base + base[-1] + "ed"}
    return forms


BASE_VERBS = frozenset(_BASE_VERBS.split())
PAST_FORMS = frozenset(_IRREGULAR.split()) - {"read", "set", "put", "cut", "hit", "let", "has", "have", "had"}
THIRD_PERSON: dict[str, str] = {}  # "sprints" -> "sprint"
VERB_FORMS: set[str] = set(_IRREGULAR.split())
for _base in BASE_VERBS:
    VERB_FORMS |= _inflect(_base)
    if _base.endswith("y") and _base[-2:-1] not in "aeiou":
        THIRD_PERSON[_base[:-1] + "ies"] = _base
    elif _base.endswith(("s", "sh", "ch", "x", "z", "o")):
        THIRD_PERSON[_base + "es"] = _base
    else:
        THIRD_PERSON[_base + "s"] = _base
THIRD_PERSON.update({"is": "be", "has": "have", "does": "do", "goes": "go"})


def bare(word: str) -> str:
    return word.lower().strip(".,;:!?\"'()")


def is_verb(word: str) -> bool:
    w = bare(word)
    if w in VERB_FORMS:
        return True
    if len(w) > 5 and w.endswith("ing") and w not in _ING_NOUNS:
        return True
    return len(w) > 5 and w.endswith("ed") and w not in _ED_NOUNS


def is_finite_third_person(word: str) -> bool:
    return bare(word) in THIRD_PERSON


# --- Languages ----------------------------------------------------------------------------------

_STOPWORDS = {
    "en": set("the a an and of with in on at to is are his her their through as then while".split()),
    "es": set("el la los las un una y con en de del por para se su sus mientras luego sobre al".split()),
    "de": set("der die das und mit ein eine im auf den dem des zu ist sich ihre seine dann während".split()),
    "fr": set("le la les un une et avec dans sur des du au pour se sa ses puis pendant".split()),
}


def detect_language(text: str) -> str:
    words = re.findall(r"[a-zA-Z\u00C0-\u024F]+", text.lower())
    scores = {lang: sum(1 for word in words if word in stop) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else "en"


# Words that move the story on to a new shot ("then", "luego", "dann", "puis").
SEQUENCE_WORDS = {
    "en": r"and then|then|after that|afterwards|finally|next(?!\s+to\b)|later|meanwhile",
    "es": r"y luego|luego|después|despues|entonces|finalmente|al final",
    "de": r"und dann|dann|danach|anschließend|anschliessend|schließlich|schliesslich|zum schluss",
    "fr": r"et puis|puis|ensuite|enfin|après|apres",
}
# Phrases that ask for the call to action ("End with 'Shop now'", "CTA: ...").
CTA_MARKERS = re.compile(
    r"^(?:(?:and\s+)?(?:finally\s+)?(?:end|close|finish|wrap(?:\s+up)?)\s+(?:on|with)(?:\s+(?:the|a))?"
    r"(?:\s+(?:cta|call to action|tagline|line|message|text|end card|card))?|cta|call to action|"
    r"termina(?:r)?\s+con|cierra\s+con|schluss\s+mit|endet?\s+mit|finir\s+(?:sur|avec))\s*[:,-]?\s*",
    re.I,
)
CTA_VERBS = re.compile(
    r"^(?:shop|buy|order|pre-?order|download|visit|sign up|subscribe|book|call|tap|swipe|get yours|get it|"
    r"grab yours|join|learn more|find (?:out|us)|head to|go to|try it|try .+ (?:today|now|free)|link in bio|"
    r"available (?:now|today|at|in|online)|compra|pide|descarga|visita|reserva|prueba|jetzt|kauf|bestell|"
    r"besuche|hol dir|achetez|commandez|visitez|essayez)\b",
    re.I,
)
# Director's words that are not part of what the image shows ("Show a runner", "Cut to ...").
STAGE_DIRECTIONS = re.compile(
    r"^(?:(?:and|but|so)\s+)?(?:(?:then|next|finally)\s+)?(?:we\s+see|show(?:s|ing)?(?:\s+us)?|open(?:s)?\s+(?:on|with)|"
    r"start(?:s)?\s+(?:on|with)|begin(?:s)?\s+(?:on|with)|cut(?:s)?\s+to|pan(?:s)?\s+to|close\s+on|"
    r"zoom(?:s)?\s+(?:in|out)\s+(?:on|to)|muestra|zeige?|montrez?|and|then|y|und|et)\s+",
    re.I,
)


def is_finite_at(words: list[str], index: int) -> bool:
    """Is words[index] a present-tense verb? Known verbs, or an unknown "-s" word between a noun and its
    object ("a family unpacks a picnic", "she adjusts her helmet"). Names ("Midnight Glow") are not verbs."""
    raw = words[index]
    if index > 0 and (raw[:1].isupper() or raw[:1] in "\"'" or raw[-1:] in "\"'"):
        return False
    word = bare(raw)
    if word in THIRD_PERSON:
        return True
    if index == 0 or len(word) < 4 or not word.endswith("s") or word.endswith(("ss", "us", "is", "'s")):
        return False
    before = bare(words[index - 1])
    after = bare(words[index + 1]) if index + 1 < len(words) else ""
    if before in DETERMINERS or before in PREPOSITIONS:
        return False
    return after in DETERMINERS or after in PREPOSITIONS or after in POSSESSIVES or before in PRONOUNS


def base_form(word: str) -> str:
    """"sprints" -> "sprint", "watches" -> "watch", "carries" -> "carry" (present tense to imperative)."""
    w = bare(word)
    if w in THIRD_PERSON:
        return THIRD_PERSON[w]
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "xes", "sses", "zes")):
        return w[:-2]
    return w[:-1] if w.endswith("s") else w
