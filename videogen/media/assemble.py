"""Scene clips -> one finished MP4: crossfades, captions, logo mark, end card, voiceover, music bed.

One FFmpeg run does everything (normalize clips, ``xfade`` chain, caption overlays, end card,
voice placement, music synthesis and ducking, single H.264 + AAC encode) so the frames are
encoded exactly once.

Timing model (all in whole frames, so durations are exact; see :mod:`videogen.media.timeline`):

* the end card owns the last ``EndCard.seconds``; scene ``i`` owns ``F_i`` frames, the planned
  seconds scaled to fill the rest (cumulative rounding, so the sum is exact);
* every piece but the last is fed to ``xfade`` ``TF`` transition frames longer than it owns;
  transition ``k`` starts exactly at the start of piece ``k+1``, so sum(lengths) - (n-1)*TF ==
  total. Where a clip is too short for its segment its last frame is held (``tpad``), where it is
  longer it is trimmed (the providers render clips ``TF`` longer, so no crossfade freezes);
* captions and the logo are small RGBA images overlaid in time windows (one decode each).

Size budget (a 30 s 1080x1920 video <= 5 MB): CRF 28 capped by a VBV of
1100 kb/s max rate / 1500 kb buffer. Worst case bits <= maxrate * T + bufsize, i.e.
4.3 MB of video + 0.36 MB of 96 kb/s AAC for 30 s, so the cap holds even for busy clips.

No Django imports.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, UnidentifiedImageError

from .ffmpeg import MediaError, atomic_output, ffmpeg_threads, run_ffmpeg, temp_dir
from .frames import _gradient, _luminance, _save_image, parse_palette
from .layout import Box, safe_zone
from .overlays import Overlay, fit_words, render_caption, render_logo_mark
from .timeline import (
    TRANSITION_SECONDS,
    Timeline,
    Window,
    _split_frames,
    caption_windows,
    place_voice_lines,
    plan_timeline,
)

__all__ = [
    "AUDIO_STYLES",
    "Assembled",
    "AudioBed",
    "EndCard",
    "OnScreen",
    "VoiceLine",
    "assemble",
    "audio_filter",
    "render_end_card",
    "scene_frame_counts",
]

log = logging.getLogger(__name__)

#: Final encode settings (see module docstring for the size budget).
VIDEO_PRESET = "veryfast"
VIDEO_CRF = "28"
VIDEO_MAXRATE = "1100k"
VIDEO_BUFSIZE = "1500k"
AUDIO_BITRATE = "96k"
AUDIO_RATE = 44100

_IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


@dataclass(frozen=True)
class EndCard:
    """Closing call-to-action frame: the last ``seconds`` of the video are its own (scenes make room).

    ``zone`` keeps the CTA inside the platform's safe zone; ``variant`` turns the gradient so
    variations do not share one card.
    """

    text: str
    palette: list[str] = field(default_factory=list)
    logo_path: str | None = None
    seconds: float = 2.0
    zone: Box | None = None
    variant: int = 0


@dataclass(frozen=True)
class VoiceLine:
    """One spoken line (a WAV file) wanted at the start of scene ``scene`` (None: on the end card)."""

    path: str
    seconds: float
    scene: int | None


@dataclass(frozen=True)
class OnScreen:
    """Copy and marks drawn over the scenes: one caption per scene (may be empty), the logo mark."""

    captions: list[str] = field(default_factory=list)
    palette: list[str] = field(default_factory=list)
    zone: Box | None = None
    logo_path: str | None = None
    variant: int = 0


@dataclass(frozen=True)
class Assembled:
    """What the assembly decided: the timeline, when each voice line starts, when captions show."""

    timeline: Timeline
    voice_starts: list[float]
    voice_tempo: float
    caption_windows: list[Window]


@dataclass(frozen=True)
class AudioBed:
    """Music bed request (from the job's ``audioControls``).

    ``volume`` is linear 0..1; ``muted`` still yields a (silent) audio track because some
    ad platforms and players reject or mis-handle video-only MP4s.
    """

    music_style: str = "upbeat"
    volume: float = 0.6
    muted: bool = False


# ----------------------------------------------------------------------------- audio

_NOTE = {  # equal-tempered frequencies, octave 4
    "C": 261.63,
    "D": 293.66,
    "E": 329.63,
    "F": 349.23,
    "G": 392.00,
    "A": 440.00,
    "B": 493.88,
}


def _triad(root: str, minor: bool = False, octave_shift: int = 0) -> tuple[float, float, float]:
    f = _NOTE[root] * (2.0**octave_shift)
    third = 2 ** ((3 if minor else 4) / 12)
    return (f, f * third, f * 2 ** (7 / 12))


#: Per style: chord progression (one chord per ``chord_s`` seconds), arpeggio notes per
#: second, note decay, weights of arpeggio/bass/pad, low-pass cutoff. Offline stand-in
#: for a licensed music library; deterministic, so renders are reproducible.
AUDIO_STYLES: dict[str, dict] = {
    "upbeat": {  # C G Am F, bright eighth-note arpeggio
        "chords": [_triad("C"), _triad("G", False, -1), _triad("A", True, -1), _triad("F", False, -1)],
        "chord_s": 2.0,
        "rate": 4.0,
        "decay": 7.0,
        "bass_rate": 2.0,
        "mix": (0.34, 0.30, 0.10),
        "lowpass": 6000,
    },
    "calm": {  # C Am F G, slow, long notes, darker filter
        "chords": [_triad("C", False, -1), _triad("A", True, -1), _triad("F", False, -1), _triad("G", False, -1)],
        "chord_s": 4.0,
        "rate": 2.0,
        "decay": 1.6,
        "bass_rate": 0.5,
        "mix": (0.26, 0.22, 0.18),
        "lowpass": 2500,
    },
    "dramatic": {  # Am F C E, heavy bass
        "chords": [_triad("A", True, -1), _triad("F", False, -1), _triad("C", False, -1), _triad("E", False, -1)],
        "chord_s": 2.0,
        "rate": 3.0,
        "decay": 3.0,
        "bass_rate": 1.0,
        "mix": (0.28, 0.38, 0.16),
        "lowpass": 3500,
    },
    "corporate": {  # C Em F G, steady
        "chords": [_triad("C"), _triad("E", True, -1), _triad("F", False, -1), _triad("G", False, -1)],
        "chord_s": 2.0,
        "rate": 4.0,
        "decay": 5.0,
        "bass_rate": 2.0,
        "mix": (0.30, 0.26, 0.14),
        "lowpass": 4500,
    },
}

_SYNTH_RATE = 22050  # synthesis rate; resampled to 44.1 kHz (halves expression cost)


def _select(index_expr: str, values: list[float]) -> str:
    """Nested ``if(eq(i,k),v_k,...)`` — FFmpeg expressions have no arrays."""
    expr = f"{values[-1]:.3f}"
    for k in range(len(values) - 2, -1, -1):
        expr = f"if(eq({index_expr},{k}),{values[k]:.3f},{expr})"
    return expr


def _music_expr(style: dict) -> str:
    """One sample of the bed as an ``aevalsrc`` expression of ``t``.

    Arpeggio (with a 2nd harmonic) over the chord, a pulsing bass an octave below the
    root and a soft sustained pad. Every voice has ~5-20 ms attack/release ramps at note
    boundaries so frequency jumps do not click. Sub-results are kept in the expression
    registers (``st``/``ld``) because the evaluator has no common-subexpression reuse:
    this halves synthesis time (30 s of audio in ~1 s).
    """
    chords = style["chords"]
    cs, rate, decay, brate = style["chord_s"], style["rate"], style["decay"], style["bass_rate"]
    w_arp, w_bass, w_pad = style["mix"]
    nchords = len(chords)
    step, bstep = 1 / rate, 1 / brate
    arp_freqs: list[float] = []
    for ch in chords:
        arp_freqs += [ch[0], ch[1], ch[2], ch[1]]  # pattern 1-3-5-3
    parts = [
        f"st(0,mod(floor(t/{cs}),{nchords}))",  # chord index
        f"st(1,mod(t,{step:.5f}))",  # time into the arpeggio note
        f"st(8,ld(0)*4+mod(floor(t*{rate}),4))",  # note index in the whole progression
        f"st(2,{_select('ld(8)', arp_freqs)})",
        f"st(3,mod(t,{bstep:.5f}))",  # time into the bass note
        f"st(4,mod(t,{cs}))",  # time into the chord
        f"st(5,{w_arp}*min(1,ld(1)*200)*min(1,({step:.5f}-ld(1))*100)*exp(-{decay}*ld(1))"
        f"*(sin(2*PI*ld(2)*t)+0.3*sin(4*PI*ld(2)*t))/1.3)",
        f"st(6,{w_bass}*min(1,ld(3)*100)*min(1,({bstep:.5f}-ld(3))*50)"
        f"*exp(-{1.25 * brate:.3f}*ld(3))*sin(2*PI*{_select('ld(0)', [ch[0] / 2 for ch in chords])}*t))",
        f"st(7,{w_pad / 3:.4f}*min(1,ld(4)*8)*min(1,({cs}-ld(4))*20)*("
        + "+".join(f"sin(2*PI*{_select('ld(0)', [ch[j] for ch in chords])}*t)" for j in range(3))
        + "))",
        "ld(5)+ld(6)+ld(7)",
    ]
    return ";".join(parts)


def audio_filter(audio: AudioBed | None, total: float, out_label: str = "aout") -> str:
    """Filter-graph chain producing exactly ``total`` s of stereo 44.1 kHz audio.

    Muted (or volume 0) -> digital silence, still a real track. Unknown styles fall back
    to ``upbeat``. Fades: 0.3 s in, up to 1.5 s out.
    """
    audio = audio or AudioBed()
    volume = min(1.0, max(0.0, float(audio.volume)))
    if audio.muted or volume == 0:
        return f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=duration={total:.4f},asetpts=PTS-STARTPTS[{out_label}]"
    style = AUDIO_STYLES.get((audio.music_style or "").strip().lower(), AUDIO_STYLES["upbeat"])
    fade_out = min(1.5, total / 4)
    expr = _music_expr(style)
    return (
        f"aevalsrc=exprs='{expr}':s={_SYNTH_RATE}:d={total + 0.1:.4f},"
        f"lowpass=f={style['lowpass']},"
        f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"volume={volume:.3f},"
        f"afade=t=in:st=0:d={min(0.3, total / 4):.3f},"
        f"afade=t=out:st={total - fade_out:.4f}:d={fade_out:.4f},"
        f"atrim=duration={total:.4f},asetpts=PTS-STARTPTS[{out_label}]"
    )


# -------------------------------------------------------------------------- end card


def render_end_card(out_path: str | os.PathLike[str], *, size: tuple[int, int], end_card: EndCard) -> None:
    """Draw the CTA end card (brand gradient, optional logo, big CTA in a pill) to an image.

    A logo that Pillow cannot read (e.g. SVG) is skipped with a warning instead of failing
    the render: a missing logo is better than no video.
    """
    w, h = size
    colours = parse_palette(end_card.palette)
    short = min(w, h)
    img = _gradient((w, h), colours[0], colours[1], math.pi / 3 + end_card.variant * 0.9).convert("RGBA")

    logo_bottom = h * 0.30
    if end_card.logo_path:
        try:
            with Image.open(end_card.logo_path) as logo:
                logo = logo.convert("RGBA")
                logo.thumbnail((int(w * 0.45), int(h * 0.20)), Image.Resampling.LANCZOS)
                lx = (w - logo.width) // 2
                ly = int(h * 0.30 - logo.height / 2) if h > w else int(h * 0.12)
                img.alpha_composite(logo, (lx, max(0, ly)))
                logo_bottom = ly + logo.height
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            log.warning("end card logo %s skipped: %s", end_card.logo_path, exc)

    text = (end_card.text or "").strip()
    if text:
        # Wrapped at word boundaries only: the font shrinks until the longest word (a URL) fits.
        font, lines, px = fit_words(text, w * 0.74, max(16, round(short * 0.085)), max(12, round(short * 0.04)), 4)
        line_h = round(px * 1.2)
        pad_x, pad_y = round(px * 0.9), round(px * 0.6)
        block_w = max(font.getlength(ln) for ln in lines) + 2 * pad_x
        block_h = len(lines) * line_h + 2 * pad_y
        zone = end_card.zone or Box(0, 0, w, h)
        cy = max(logo_bottom + short * 0.06 + block_h / 2, zone.y0 + zone.height * 0.55)
        cy = min(cy, zone.y1 - block_h / 2)
        x0, y0 = zone.x0 + (zone.width - block_w) / 2, cy - block_h / 2
        accent = colours[2] if len(colours) > 2 else (255, 255, 255)
        ink = (0, 0, 0) if _luminance(accent) > 0.35 else (255, 255, 255)
        draw = ImageDraw.Draw(img)
        shadow = round(short * 0.012)
        radius = block_h / 2 if len(lines) == 1 else px * 0.6
        draw.rounded_rectangle(
            (x0 + shadow, y0 + shadow, x0 + block_w + shadow, y0 + block_h + shadow), radius=radius, fill=(0, 0, 0, 90)
        )
        draw.rounded_rectangle((x0, y0, x0 + block_w, y0 + block_h), radius=radius, fill=(*accent, 255))
        y = y0 + pad_y + line_h / 2
        for ln in lines:
            draw.text((x0 + block_w / 2, y), ln, font=font, fill=ink, anchor="mm")
            y += line_h
    _save_image(img.convert("RGB"), out_path)


# -------------------------------------------------------------------------- assembly


def scene_frame_counts(seconds: list[float], total_frames: int) -> list[int]:
    """Split ``total_frames`` across scenes in proportion to ``seconds`` (exact sum)."""
    return _split_frames(seconds, total_frames)


def _norm_chain(label_in: str, label_out: str, *, size: tuple[int, int], fps: int, frames: int) -> str:
    """Bring any clip to exact size/fps/pix_fmt and exactly ``frames`` frames."""
    w, h = size
    return (
        f"[{label_in}]setpts=PTS-STARTPTS,fps={fps},"
        f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,"
        f"format=yuv420p,tpad=stop_mode=clone:stop_duration={frames / fps + 1:.4f},"
        f"trim=end_frame={frames},setpts=PTS-STARTPTS[{label_out}]"
    )


#: Voice sits at full level; the music under it drops to about a third (-10 dB) while it speaks.
VOICE_GAIN = 1.0
MUSIC_UNDER_VOICE = 0.55


def _voice_filter(first_input: int, lines: list[VoiceLine], starts: list[float], tempo: float, total: float) -> str:
    parts = []
    for k, start in enumerate(starts):
        speed = f"atempo={tempo:.3f}," if tempo != 1.0 else ""
        delay = max(0, round(start * 1000))
        parts.append(
            f"[{first_input + k}:a]aformat=sample_fmts=fltp:channel_layouts=mono,aresample={AUDIO_RATE},{speed}"
            f"pan=stereo|c0=c0|c1=c0,volume={VOICE_GAIN},adelay={delay}|{delay}[vl{k}]"
        )
    joined = "".join(f"[vl{k}]" for k in range(len(lines)))
    mix = f"{joined}amix=inputs={len(lines)}:normalize=0:duration=longest," if len(lines) > 1 else f"{joined}anull,"
    parts.append(f"{mix}apad,atrim=duration={total:.4f},asetpts=PTS-STARTPTS[voice]")
    return ";".join(parts)


def _ducked_mix(music_label: str, out_label: str, total: float) -> str:
    """Music ducks under the voice (sidechain compression keyed by the voice), then both are mixed."""
    return (
        "[voice]asplit=2[vkey][vmix];"
        f"[{music_label}]volume={MUSIC_UNDER_VOICE}[bed];"
        "[bed][vkey]sidechaincompress=threshold=0.012:ratio=8:attack=15:release=450:makeup=1[ducked];"
        "[ducked][vmix]amix=inputs=2:normalize=0:duration=first,"
        f"alimiter=limit=0.89:level=false,atrim=duration={total:.4f},asetpts=PTS-STARTPTS[{out_label}]"
    )


def _overlay_inputs(
    scratch: Path, on_screen: OnScreen | None, timeline: Timeline, windows: list[Window], size: tuple[int, int]
) -> list[tuple[Overlay, float, float]]:
    """(overlay, from, to) for the logo mark and each caption."""
    if on_screen is None:
        return []
    zone = on_screen.zone or safe_zone("", "", size)
    overlays: list[tuple[Overlay, float, float]] = []
    until = timeline.end_card_start if timeline.end_card_frames else timeline.total_seconds
    if on_screen.logo_path:
        mark = render_logo_mark(on_screen.logo_path, scratch / "logo_mark.png", size=size, zone=zone)
        if mark is not None:
            overlays.append((mark, 0.0, until))
    for index, (text, window) in enumerate(zip(on_screen.captions, windows, strict=False)):
        if not (text or "").strip() or window.end <= window.start:
            continue
        caption = render_caption(text, scratch / f"caption_{index}.png", size=size, zone=zone,
                                 palette=on_screen.palette, variant=on_screen.variant)
        if caption is not None:
            overlays.append((caption, window.start, window.end))
    return overlays


def assemble(
    clips: list[tuple[str, float]],
    out_path: str | os.PathLike[str],
    *,
    size: tuple[int, int],
    total_duration: float,
    fps: int = 24,
    transition_seconds: float = TRANSITION_SECONDS,
    end_card: EndCard | None = None,
    audio: AudioBed | None = None,
    on_screen: OnScreen | None = None,
    voice: list[VoiceLine] | None = None,
    timeout: float = 300,
) -> Assembled:
    """Assemble scene clips into the final H.264/AAC MP4 of exactly ``total_duration`` s.

    ``clips`` are ``(path, planned seconds)`` per scene in order; paths may also be still images
    (the text-only fallback). Clip sizes/rates/lengths need not match: each is normalized in
    the graph. The end card, when given, has its own last ``end_card.seconds``; the scenes share the
    rest in proportion to their planned seconds. Captions and the logo mark (``on_screen``) are
    composited over the scenes, never over the end card. Voice lines start at their scenes (see
    :func:`videogen.media.timeline.place_voice_lines`) and the music ducks under them.
    Raises :class:`MediaError` (FFmpeg failure/timeout) or ``ValueError``.
    """
    if not clips:
        raise ValueError("at least one clip is required")
    if total_duration <= 0:
        raise ValueError("total_duration must be positive")
    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2 or w < 16 or h < 16:
        raise ValueError(f"size must be even and >= 16 px: {w}x{h}")
    for path, _secs in clips:
        if not Path(path).is_file():
            raise MediaError(f"clip not found: {path}")
    voice = [line for line in voice or [] if Path(line.path).is_file() and line.seconds > 0]

    card_seconds = end_card.seconds if end_card is not None and end_card.seconds > 0 else 0.0
    timeline = plan_timeline([float(s) for _, s in clips], total_duration, fps=fps,
                             transition_seconds=transition_seconds, end_card_seconds=card_seconds)
    counts, tf, ef = timeline.scene_frames, timeline.transition_frames, timeline.end_card_frames
    total_frames = timeline.total_frames
    total = total_frames / fps
    n = len(counts)

    slots = [timeline.scene_start(line.scene) if line.scene is not None and line.scene < n
             else (timeline.end_card_start if ef else timeline.scene_start(n - 1)) for line in voice]
    voice_starts, tempo = place_voice_lines(slots, [line.seconds for line in voice], total)
    spoken = {line.scene: Window(start, start + line.seconds / tempo)
              for line, start in zip(voice, voice_starts, strict=True) if line.scene is not None}
    windows = caption_windows(timeline, spoken)

    with temp_dir("videogen-assemble-") as scratch, atomic_output(out_path) as tmp:
        args: list[str] = []
        graph: list[str] = []
        pieces = n + (1 if ef else 0)
        for i, (path, _secs) in enumerate(clips):
            seg = counts[i] + (tf if i < pieces - 1 else 0)
            if Path(path).suffix.lower() in _IMAGE_EXTS:
                args += ["-loop", "1", "-framerate", str(fps), "-t", f"{seg / fps + 0.5:.4f}"]
            args += ["-i", os.path.abspath(path)]
            graph.append(_norm_chain(f"{i}:v", f"v{i}", size=(w, h), fps=fps, frames=seg))
        if ef:
            card_png = scratch / "end_card.png"
            render_end_card(card_png, size=(w, h), end_card=end_card)
            args += ["-loop", "1", "-framerate", str(fps), "-t", f"{ef / fps + 0.5:.4f}", "-i", str(card_png)]
            graph.append(_norm_chain(f"{n}:v", f"v{n}", size=(w, h), fps=fps, frames=ef))

        last = "v0"
        boundary = 0
        lengths = [*counts, ef] if ef else counts
        for k in range(1, pieces):
            boundary += lengths[k - 1]
            out = f"x{k}"
            if tf > 0:
                graph.append(
                    f"[{last}][v{k}]xfade=transition=fade:duration={tf / fps:.6f}:offset={boundary / fps:.6f}[{out}]"
                )
            else:
                graph.append(f"[{last}][v{k}]concat=n=2:v=1:a=0[{out}]")
            last = out

        next_input = pieces
        for j, (overlay, start, end) in enumerate(_overlay_inputs(scratch, on_screen, timeline, windows, (w, h))):
            args += ["-i", overlay.path]
            graph.append(
                f"[{last}][{next_input}:v]overlay=x={overlay.x}:y={overlay.y}:eof_action=repeat:"
                f"enable='between(t,{start:.3f},{end - 0.5 / fps:.3f})'[o{j}]"
            )
            last = f"o{j}"
            next_input += 1

        graph.append(f"[{last}]tpad=stop_mode=clone:stop=1,trim=end_frame={total_frames},setpts=PTS-STARTPTS[vout]")
        if voice:
            for line in voice:
                args += ["-i", os.path.abspath(line.path)]
            graph.append(_voice_filter(next_input, voice, voice_starts, tempo, total))
            graph.append(audio_filter(audio, total, "music"))
            graph.append(_ducked_mix("music", "aout", total))
        else:
            graph.append(audio_filter(audio, total, "aout"))

        args += [
            "-filter_complex",
            ";".join(graph),
            "-map",
            "[vout]",
            "-map",
            "[aout]",
            "-frames:v",
            str(total_frames),
            "-r",
            str(fps),
            "-c:v",
            "libx264",
            "-preset",
            VIDEO_PRESET,
            "-crf",
            VIDEO_CRF,
            "-maxrate",
            VIDEO_MAXRATE,
            "-bufsize",
            VIDEO_BUFSIZE,
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
            "-g",
            str(fps * 2),
            "-threads",
            str(ffmpeg_threads()),
            "-c:a",
            "aac",
            "-b:a",
            AUDIO_BITRATE,
            "-ar",
            str(AUDIO_RATE),
            "-ac",
            "2",
            "-t",
            f"{total:.4f}",
            "-movflags",
            "+faststart",
            str(tmp),
        ]
        run_ffmpeg(args, timeout=timeout)
    return Assembled(timeline=timeline, voice_starts=voice_starts, voice_tempo=tempo, caption_windows=windows)
