"""FFmpeg wrapper and probe: real processes, real files, measured results."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from media_testutil import make_video

from videogen.media.ffmpeg import MediaError, MediaInfo, ffmpeg_exe, probe, run_ffmpeg


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("probe") / "v.mp4", size=(320, 568), seconds=2.0, fps=24)


def test_ffmpeg_exe_is_the_imageio_binary() -> None:
    exe = ffmpeg_exe()
    assert os.path.isfile(exe) and os.access(exe, os.X_OK)
    assert "imageio_ffmpeg" in exe


def test_run_ffmpeg_failure_raises_media_error_with_stderr(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as err:
        run_ffmpeg(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "out.mp4")], timeout=30)
    assert err.value.returncode not in (0, None)
    assert "missing.mp4" in err.value.stderr


def test_run_ffmpeg_timeout_kills_and_raises(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(MediaError, match="timed out"):
        # An endless source read in real time: never finishes on its own.
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10", "-f", "null", "-"], timeout=1)
    assert time.monotonic() - start < 10


def test_probe_measures_a_real_video(video: Path) -> None:
    info = probe(video)
    assert isinstance(info, MediaInfo)
    assert (info.width, info.height) == (320, 568)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.frame_count == 48
    assert info.fps == pytest.approx(24.0)
    assert info.video_codec == "h264"
    assert info.has_audio is True
    assert "mp4" in info.format_name


def test_probe_without_frame_count_estimates_from_duration(video: Path) -> None:
    info = probe(video, count_frames=False)
    assert info.frame_count == 48
    assert (info.width, info.height) == (320, 568)


def test_probe_reports_video_without_audio(tmp_path: Path) -> None:
    info = probe(make_video(tmp_path / "silent.mp4", seconds=1.0, audio=False))
    assert info.has_audio is False


def test_probe_applies_rotation_metadata(tmp_path: Path, video: Path) -> None:
    rotated = tmp_path / "rot.mp4"
    run_ffmpeg(["-display_rotation", "90", "-i", str(video), "-c", "copy", str(rotated)], timeout=30)
    info = probe(rotated)
    assert (info.width, info.height) == (568, 320)


def test_probe_rejects_truncated_mp4(tmp_path: Path, video: Path) -> None:
    data = video.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])  # faststart: header intact, media cut
    with pytest.raises(MediaError):
        probe(truncated)


def test_probe_rejects_mp4_missing_its_header(tmp_path: Path) -> None:
    src = make_video(tmp_path / "plain.mp4", seconds=1.0)
    no_faststart = tmp_path / "moov_at_end.mp4"
    run_ffmpeg(["-i", str(src), "-c", "copy", str(no_faststart)], timeout=30)  # moov written last
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(no_faststart.read_bytes()[:-4000])
    with pytest.raises(MediaError):
        probe(cut, count_frames=False)


def test_probe_rejects_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(50_000))
    with pytest.raises(MediaError):
        probe(junk)


def test_probe_rejects_playlist_disguised_as_video(tmp_path: Path) -> None:
    evil = tmp_path / "evil.mp4"
    evil.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaError):
        probe(evil)


def test_probe_rejects_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError):
        probe(empty)
    with pytest.raises(MediaError):
        probe(tmp_path / "nope.mp4")
