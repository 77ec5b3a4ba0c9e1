"""Splitting a brief into its narrative beats, in order.

A beat is one thing the viewer sees: "A runner laces up new sneakers at dawn". Briefs come as one
long sentence, several sentences, bullet or numbered lists, or explicit "Scene N:" lists; clauses
are found at sentence ends, semicolons, list items, sequencing words ("then", "luego", "dann"),
commas that open a new clause, and "and"/"as" where a new clause with its own verb starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from videogen.planning import lexicon as lx
from videogen.planning.text import normalise, sentence_case, strip_quotes, tidy

SCENE_LABEL = re.compile(r"(?i)\b(?:scene|escena|szene|sc[eè]ne)\s*\d+\s*[:.)-]\s*")
_LIST_ITEM = re.compile(r"^\s*(?:\d+\s*[.)]|[-*\u2022\u25cf\u25aa\u2013])\s+(.+?)\s*$")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|approx|Mr|Mrs|Ms|Dr|St|No)\.$", re.I)
MIN_CLAUSE_WORDS = 2


@dataclass(frozen=True)
class Beat:
    """One narrative beat: `text` is what the viewer sees, subject included.

    `action` is the same beat without its protagonist (for imperative copy: "Sprint through ..."),
    empty when the beat is about something else; `cta` marks a call to action found in the brief.
    """

    text: str
    action: str = ""
    cta: bool = False


@dataclass
class BriefBeats:
    beats: list[Beat]
    explicit: bool = False  # the brief numbered its scenes itself ("Scene 1: ...")
    language: str = "en"
    product: str = ""  # what is being advertised, when the brief names it ("sneakers")
    product_is_new: bool = False  # the brief says "new sneakers"
    protagonist: str = ""


def split_brief(brief: str) -> BriefBeats:
    text = normalise(brief)
    language = lx.detect_language(text)
    labelled = [part for part in SCENE_LABEL.split(text) if part.strip(" .\n")]
    if len(SCENE_LABEL.findall(text)) >= 2:
        # Text before "Scene 1:" is an intro, not a scene.
        if not SCENE_LABEL.match(text.lstrip()):
            labelled = labelled[1:]
        raw = [_clean_clause(part) for part in labelled]
        return _finish(raw, language, text, explicit=True)
    list_items = [m.group(1) for line in text.splitlines() if (m := _LIST_ITEM.match(line))]
    if len(list_items) >= 2:
        clauses: list[str] = []
        for line in text.splitlines():
            item = _LIST_ITEM.match(line)
            if item:
                clauses.append(_clean_clause(item.group(1)))
            elif line.strip() and not line.rstrip().endswith(":"):
                clauses.extend(_clauses(line, language))
        return _finish(clauses, language, text)
    clauses = _clauses(text, language)
    return _finish(clauses, language, text)


def _finish(raw: list[str], language: str, text: str, *, explicit: bool = False) -> BriefBeats:
    beats: list[Beat] = []
    seen: set[str] = set()
    protagonist = ""
    last_subject = ""
    for clause in raw:
        clause = tidy(clause).strip(" .,;:")
        if not clause:
            continue
        cta_text = call_to_action(clause, is_last=False)
        if cta_text:
            beats.append(Beat(text=cta_text, cta=True))
            continue
        described, action, subject = _with_subject(clause, last_subject, language)
        if subject and not protagonist and _is_person(subject):
            protagonist = subject
        if subject:
            last_subject = subject
        key = described.lower()
        if key in seen:
            continue  # a repeated clause is one beat, shown once
        seen.add(key)
        is_protagonist = bool(protagonist) and (
            _definite(subject).lower() == _definite(protagonist).lower() or subject.lower() in lx.PRONOUNS
        )
        beats.append(Beat(text=sentence_case(described), action=action if is_protagonist else ""))
    if beats and not beats[-1].cta:
        last = beats[-1]
        cta_text = call_to_action(last.text, is_last=True)
        if cta_text:
            beats[-1] = Beat(text=cta_text, cta=True)
    # Only the last call to action closes the ad; earlier ones stay as ordinary beats.
    ctas = [index for index, beat in enumerate(beats) if beat.cta]
    for index in ctas[:-1]:
        beats[index] = Beat(text=beats[index].text)
    if ctas:
        beats.append(beats.pop(ctas[-1]))
    product = product_name(text)
    is_new = bool(product) and bool(re.search(rf"\bnew\s+{re.escape(product)}", text, re.I))
    return BriefBeats(beats=beats, explicit=explicit, language=language, product=product, product_is_new=is_new,
                      protagonist=_definite(protagonist))


def call_to_action(clause: str, *, is_last: bool) -> str:
    """The call to action a clause asks for ("End with 'Shop now'") or, for the last clause, is."""
    stripped = clause.strip()
    marker = lx.CTA_MARKERS.match(stripped)
    if marker and stripped[marker.end():].strip():
        return sentence_case(strip_quotes(stripped[marker.end():]).rstrip(" ."))
    if is_last and lx.CTA_VERBS.match(stripped):
        return sentence_case(strip_quotes(stripped).rstrip(" ."))
    return ""


# --- Clauses ----------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for block in re.split(r"\n+|;", text):
        current = ""
        for token in re.split(r"(?<=[.!?])\s+", block):
            current = f"{current} {token}".strip() if current else token
            if not _ABBREVIATIONS.search(current):
                pieces.append(current)
                current = ""
        if current:
            pieces.append(current)
    return [piece.strip() for piece in pieces if piece.strip(" .!?")]


def _clauses(text: str, language: str) -> list[str]:
    clauses: list[str] = []
    words = lx.SEQUENCE_WORDS.get(language, lx.SEQUENCE_WORDS["en"])
    sequence = re.compile(rf"(?:,\s*|\s+)\b(?:{words})\b\s*,?\s*", re.I)
    for sentence in _sentences(text):
        for part in sequence.split(" " + sentence):
            clauses.extend(_comma_clauses(part, language))
    return [clause for clause in (_clean_clause(c) for c in clauses) if clause]


def _comma_clauses(part: str, language: str) -> list[str]:
    """Commas start a new beat only when what follows is a clause of its own (not "coffee, croissants")."""
    fragments = [f.strip() for f in re.split(r",\s*|\s+-+\s+", part) if f.strip(" .")]
    merged: list[str] = []
    for fragment in fragments:
        body = re.sub(r"^(?:and|as|while|y|und|et)\s+", "", fragment, flags=re.I)
        if merged and not (_is_clause(body, language) and (language != "en" or _starts_clause(body))):
            merged[-1] = f"{merged[-1]}, {fragment}"
        else:
            merged.append(fragment)
    if language != "en":
        return merged
    result: list[str] = []
    for fragment in merged:
        result.extend(_and_clauses(fragment))
    return result


def _and_clauses(fragment: str) -> list[str]:
    """ "A chef chops herbs and tosses them in a pan" -> two beats; "black and white film" -> one."""
    pieces = re.split(r"\s+and\s+", fragment)
    if len(pieces) == 1:
        return [fragment]
    result = [pieces[0]]
    for piece in pieces[1:]:
        if _is_clause(result[-1], "en") and _starts_clause(piece):
            result.append(piece)
        else:
            result[-1] = f"{result[-1]} and {piece}"
    return result


def _is_clause(fragment: str, language: str) -> bool:
    words = fragment.split()
    if len(words) < MIN_CLAUSE_WORDS:
        return False
    if language != "en":
        return len(words) >= 3
    return any(lx.is_verb(word) or lx.is_finite_at(words, i) for i, word in enumerate(words))


def _starts_clause(piece: str) -> bool:
    """Does `piece` begin a new clause: a verb ("tosses them"), or a subject and its verb ("the crowd cheers")?"""
    words = piece.split()
    if len(words) < MIN_CLAUSE_WORDS:
        return False
    if lx.is_finite_third_person(words[0]) and not lx.is_verb(words[1]):
        return True
    first = lx.bare(words[0])
    if first in lx.DETERMINERS or first in lx.PRONOUNS:
        return any(lx.is_verb(word) or lx.is_finite_at(words, i) for i, word in enumerate(words[:5]) if i)
    if first in lx.PREPOSITIONS:
        return False
    # "neon lights flicker", "friends laugh": a short subject, then its verb.
    return lx.bare(words[1]) in lx.BASE_VERBS or any(
        lx.is_finite_at(words, i) or lx.bare(words[i]) in lx.PAST_FORMS for i in (1, 2) if i < len(words)
    )


def _clean_clause(clause: str) -> str:
    clause = clause.strip().strip(" .,;:")
    for _ in range(3):
        stripped = lx.STAGE_DIRECTIONS.sub("", clause, count=1)
        if stripped == clause:
            break
        clause = stripped
    return tidy(clause).strip(" .,;:")


# --- Subjects ---------------------------------------------------------------------------------


def _with_subject(clause: str, last_subject: str, language: str) -> tuple[str, str, str]:
    """(description, action without subject, subject) of a clause; a verb-led clause borrows the last subject."""
    if language != "en":
        return clause, "", ""
    words = clause.split()
    if len(words) >= 2 and lx.is_finite_third_person(words[0]) and not lx.is_verb(words[1]):
        if last_subject:
            subject = _definite(last_subject)
            return f"{subject} {clause[0].lower()}{clause[1:]}", clause, subject
        return clause, clause, ""
    for index, word in enumerate(words[:5]):
        if index == 0:
            continue
        if lx.is_finite_at(words, index) or (lx.bare(word) in lx.VERB_FORMS and not word.lower().endswith("ing")):
            subject_words = words[:index]
            if lx.bare(subject_words[-1]) in lx.DETERMINERS:
                return clause, "", ""
            subject = " ".join(subject_words)
            return clause, " ".join(words[index:]), subject
    return clause, "", ""


def _definite(subject: str) -> str:
    return re.sub(r"^(?:a|an)\s+", "the ", subject.strip(), flags=re.I)


def _is_person(subject: str) -> bool:
    words = [lx.bare(word) for word in subject.split()]
    return bool(words) and (words[-1] in lx.PERSON_NOUNS or (len(words) == 1 and words[0] in lx.PRONOUNS))


# --- What is advertised -----------------------------------------------------------------------

_PRODUCT = re.compile(
    r"\b(?:our|the|its|their|his|her)?\s*(?:all-)?new\s+((?:[A-Za-z][\w-]*\s+){0,2}?[A-Za-z][\w-]*)"
    r"(?=\s+(?:at|on|in|with|from|for|by|to|as|and|that|which|while|through|glow|glows)\b|[,.;!?]|$)",
    re.I,
)


_OUR_PRODUCT = re.compile(r'\bour\s+((?:"[^"]{1,40}"\s+)?[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*)?)', re.I)


def product_name(text: str) -> str:
    """What the brief calls the product: "new sneakers" -> "sneakers", "our oat latte" -> "oat latte"."""
    for pattern in (_PRODUCT, _OUR_PRODUCT):
        match = pattern.search(text)
        if not match:
            continue
        words: list[str] = []
        for word in match.group(1).split():
            if lx.bare(word) in lx.PREPOSITIONS or lx.bare(word) in lx.DETERMINERS or lx.is_finite_third_person(word):
                break
            words.append(word.rstrip(",.;:!?"))
            if word[-1:] in ",.;:!?":
                break
        if words:
            return " ".join(words)
    return ""
