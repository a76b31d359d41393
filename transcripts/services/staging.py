"""Uploaded files waiting for the user to confirm their import preview.

Nothing reaches the database before confirmation; the bytes wait on disk under
``IMPORT_STAGING_DIR``, tied to one study and one user, and are deleted on confirm, on cancel,
or after a day.
"""

import json
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class StagedFile:
    name: str
    data: bytes


def _root() -> Path:
    return Path(settings.IMPORT_STAGING_DIR)


def _sweep() -> None:
    root = _root()
    if not root.exists():
        return
    cutoff = time.time() - MAX_AGE_SECONDS
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def stage(*, study_id: int, user_id: int, files: list[StagedFile]) -> str:
    _sweep()
    token = uuid.uuid4().hex
    folder = _root() / token
    folder.mkdir(parents=True, mode=0o700)
    names = []
    for index, staged in enumerate(files):
        (folder / f"{index}.bin").write_bytes(staged.data)
        names.append(staged.name)
    meta = {"study": study_id, "user": user_id, "names": names}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load(token: str, *, study_id: int, user_id: int) -> list[StagedFile] | None:
    """The staged files, or None if the token is unknown, expired or someone else's."""
    if not _TOKEN.match(token or ""):
        return None
    folder = _root() / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("study") != study_id or meta.get("user") != user_id:
        return None
    if folder.stat().st_mtime < time.time() - MAX_AGE_SECONDS:
        return None
    return [
        StagedFile(name=name, data=(folder / f"{index}.bin").read_bytes())
        for index, name in enumerate(meta["names"])
    ]


def discard(token: str) -> None:
    if _TOKEN.match(token or ""):
        shutil.rmtree(_root() / token, ignore_errors=True)
