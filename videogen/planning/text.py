"""Small text tools shared by the planners: tidy joins, word-boundary fitting, spoken-length budgets."""

from __future__ import annotations

import re
import unicodedata

CAPTION_MAX_CHARS = 60
WORDS_PER_SECOND = 2.5  # a relaxed voiceover pace
# Words a caption or a spoken line should not end on ("... as the", "... and").
DANGLING = frozenset(
    "a an the and or but as of to with on in at for by from into onto over under while then so your our their "
    "his her its my y e o de del la el los las con en und oder mit im am zu der die das den dem ein eine et ou le "
    "les des du au al se por para sur avec dans".split()
)
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
    "\U0000FE0F\U0000200D\U000020E3]+"
)
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
                         "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2013": "-", "\u2014": "-"})


def strip_emoji(text: str) -> str:
    return _EMOJI.sub(" ", text)


def normalise(text: str) -> str:
    """Plain quotes and dashes, no emoji, no control characters, single spaces (newlines kept)."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = strip_emoji(text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def tidy(text: str) -> str:
    """Clean joins: no doubled or stray punctuation ("product..", ", ." , " ,"), single spaces."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]\s*([.!?])", r"\1", text)
    text = re.sub(r"([!?])\.+", r"\1", text)
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s{2,}", " ", text)
    return text.strip(" ,;:")


def strip_quotes(text: str) -> str:
    return text.strip().strip("\"'").strip()


def sentence_case(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def as_sentence(text: str) -> str:
    """A tidy sentence that ends with one full stop (or its own ! / ?)."""
    text = tidy(sentence_case(strip_quotes(text)).rstrip(" .,;:"))
    if not text:
        return ""
    return text if text[-1] in ".!?" else text + "."


def fit_words(text: str, max_chars: int) -> str:
    """At most `max_chars`, cut at a word boundary, never ending on a dangling little word."""
    text = tidy(text)
    if len(text) <= max_chars:
        return text
    words = text[: max_chars + 1].split(" ")
    if len(text) > max_chars and not text[max_chars:max_chars + 1].isspace():
        words = words[:-1]  # the last word was cut in the middle
    while words and words[-1].lower().strip(",.;:") in DANGLING:
        words.pop()
    fitted = " ".join(words).rstrip(" ,;:-")
    return fitted or text[:max_chars].rstrip()


def caption_from(text: str, max_chars: int = CAPTION_MAX_CHARS) -> str:
    """On-screen copy: one line of sentence-case text, no trailing full stop, <= max_chars."""
    text = tidy(sentence_case(strip_quotes(text)))
    text = text.rstrip(".")
    return fit_words(text, max_chars).rstrip(".")


def word_budget(seconds: float) -> int:
    """How many words a voice can say comfortably in `seconds` (at least a two-word line)."""
    return max(2, int(seconds * WORDS_PER_SECOND))


def fit_spoken(text: str, seconds: float) -> str:
    """One spoken sentence that fits the scene's seconds: shortened at a phrase boundary ("Friends cheer
    as she crosses the line" -> "Friends cheer."), cut at a word only when no boundary fits."""
    sentence = as_sentence(text)
    budget = word_budget(seconds)
    words = sentence.split()
    if len(words) <= budget:
        return sentence
    head = _PHRASE_BREAK.split(sentence.rstrip(".!?"), maxsplit=1)[0]
    if 2 <= count_words(head) <= budget:
        return as_sentence(head)
    cuts = [m.start() for m in _PREPOSITION.finditer(sentence) if 3 <= count_words(sentence[: m.start()]) <= budget]
    if cuts:
        return as_sentence(sentence[: cuts[-1]])
    words = words[:budget]
    while len(words) > 1 and words[-1].lower().strip(",.;:!?") in DANGLING:
        words.pop()
    return as_sentence(" ".join(words))


def count_words(text: str) -> int:
    return len(text.split())


_PHRASE_BREAK = re.compile(r",\s+|\s+(?=(?:as|while|when|until|mientras|cuando|während|wenn|pendant|quand)\s)", re.I)
_PREPOSITION = re.compile(
    r"\s+(?=(?:at|on|in|into|through|across|over|under|near|by|with|from|for|al|en|por|con|de|bajo|"
    r"auf|im|in|mit|durch|über|unter|am|à|au|dans|sur|avec|par|sous)\s)", re.I,
)


def short_caption(text: str, target: int, limit: int = CAPTION_MAX_CHARS) -> str:
    """A caption of about `target` characters, shortened at a phrase boundary ("... as the sun rises")
    rather than mid-phrase; only a caption with no such boundary is cut at a word (<= `limit`)."""
    caption = caption_from(text, limit * 4)
    if len(caption) <= target:
        return caption
    head = _PHRASE_BREAK.split(caption, maxsplit=1)[0]
    if len(head) <= target and count_words(head) >= 2:
        return caption_from(head, limit)
    candidate = head if len(head) < len(caption) else caption
    cuts = [m.start() for m in _PREPOSITION.finditer(candidate) if count_words(candidate[: m.start()]) >= 3]
    fitting = [cut for cut in cuts if cut <= target]
    if fitting:
        return caption_from(candidate[: fitting[-1]], limit)
    return caption_from(candidate, limit)
