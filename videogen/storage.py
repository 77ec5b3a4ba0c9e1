"""Where media live (layout in docs/design.md) and how workers get local copies of them, on disk or S3.

Every stored file goes through `default_storage` (local folder, or an S3 bucket shared by all
hosts). Nothing assumes `default_storage.path()` exists: FFmpeg gets a scratch copy from
`local_copy`, and work folders come from `work_dir`, under this process's own SCRATCH_DIR.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage


def storyboard_image_name(job_id: int, scene_number: int, suffix: str = ".png") -> str:
    return f"storyboards/{job_id}/scene_{scene_number}{suffix}"


def variation_dir(job_id: int, index: int) -> str:
    # Variation 1 is stored at videos/{job_id}/ itself; further variations get a folder each.
    return f"videos/{job_id}" if index == 1 else f"videos/{job_id}/variation_{index}"


def clip_name(job_id: int, index: int, scene_number: int) -> str:
    return f"videos/{job_id}/clips/v{index}_scene_{scene_number}.mp4"


def output_name(job_id: int, index: int, kind: str) -> str:
    filename = {"mp4": "final.mp4", "gif": "final.gif", "webm": "final.webm", "thumbnail": "thumbnail.jpg"}[kind]
    return f"{variation_dir(job_id, index)}/{filename}"


def uses_object_storage() -> bool:
    """True when media live in an S3-compatible bucket (presigned URLs, no local paths)."""
    return bool(getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""))


def save_file(name: str, source: Path) -> str:
    """Stores `source` under exactly `name`, replacing what was there (refines overwrite scene images)."""
    if not uses_object_storage() and default_storage.exists(name):
        default_storage.delete(name)  # FileSystemStorage would pick another name; S3 overwrites in place
    with open(source, "rb") as handle:
        return default_storage.save(name, File(handle, name=Path(name).name))


def delete_quietly(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def work_dir(prefix: str) -> Path:
    """A new private folder under SCRATCH_DIR. The caller removes it (shutil.rmtree) when done."""
    root = Path(settings.SCRATCH_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path for a stored file: the file itself on disk storage, a scratch download on S3.

    The download is removed when the block ends, whatever happens inside it.
    """
    try:
        on_disk = Path(default_storage.path(name))
    except NotImplementedError:
        on_disk = None
    if on_disk is not None:
        yield on_disk
        return
    folder = work_dir("dl-")
    target = folder / Path(name).name
    try:
        _download(name, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _download(name: str, target: Path) -> None:
    with default_storage.open(name, "rb") as stored:
        s3_object = getattr(stored, "obj", None)
        if s3_object is not None:
            # Straight to disk in ranged parts; reading the S3File would first buffer it whole in memory.
            s3_object.download_file(str(target))
            return
        with open(target, "wb") as dest:
            shutil.copyfileobj(stored, dest, 1024 * 1024)
