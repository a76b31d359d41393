"""Uploaded files waiting for the user to confirm their import preview.

Nothing reaches the database before confirmation; the bytes wait on disk under
``IMPORT_STAGING_DIR``, one folder per preview, tied to one study and one user. Each folder's
``meta.json`` also names the participant the files were uploaded for and the SHA-256 of each
file, so that a withdrawal or a purge finds and deletes what is staged for that participant or
that transcript (``discard_for``): a purged text must not survive in a forgotten preview.

A preview is deleted on confirm, on cancel, on withdrawal or purge, and after a day (by
``manage.py sweep_import_staging``, which operators schedule, and on each new upload). Each user
may keep ``IMPORT_STAGING_MAX_PREVIEWS`` previews of at most ``IMPORT_STAGING_MAX_BYTES`` in
all (two uploads at the same instant may both pass the check: the quota bounds disk use, it is
not a lock).
"""

import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from transcripts.models import ConsentKind, ConsentUse, Participant
from transcripts.selectors.consent import current_consent, with_consent
from workbench.uploads import size_label

MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_META = "meta.json"


@dataclass(frozen=True)
class StagedFile:
    """A staged file; its bytes are read from disk only when asked for, one file at a time."""

    name: str
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True)
class Preview:
    token: str
    meta: dict

    @property
    def names(self) -> list[str]:
        return self.meta.get("names", [])

    @property
    def staged_at(self) -> float:
        return self.meta.get("created", 0.0)


def _root() -> Path:
    return Path(settings.IMPORT_STAGING_DIR)


def _read_meta(folder: Path) -> dict | None:
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _write_meta(folder: Path, meta: dict) -> None:
    # Written whole and renamed into place, so a reader never sees half a file.
    part = folder / f"{_META}.part"
    part.write_text(json.dumps(meta), encoding="utf-8")
    part.replace(folder / _META)


def _expired(folder: Path, now: float) -> bool:
    try:
        return folder.stat().st_mtime < now - MAX_AGE_SECONDS
    except OSError:
        return False


def previews() -> Iterator[Preview]:
    """Every staged preview that is still valid."""
    root = _root()
    if not root.exists():
        return
    now = time.time()
    for folder in root.iterdir():
        if not (folder.is_dir() and _TOKEN.match(folder.name)) or _expired(folder, now):
            continue
        meta = _read_meta(folder)
        if meta is not None:
            yield Preview(folder.name, meta)


def pending(*, study_id: int, user_id: int) -> list[Preview]:
    """This user's previews in this study, oldest first (the import page offers to cancel them)."""
    mine = [
        p for p in previews() if p.meta.get("study") == study_id and p.meta.get("user") == user_id
    ]
    return sorted(mine, key=lambda p: p.staged_at)


def stage_begin(*, study_id: int, user_id: int, participant: Participant, size: int) -> str:
    """An empty preview for ``size`` bytes of files for ``participant``, within the user's
    quota; its token. Nothing is staged for someone whose consent does not cover
    transcription (a withdrawn participant's files are not even kept for a preview)."""
    consent = current_consent(participant)
    if consent is None or not consent.allows(ConsentUse.TRANSCRIBE):
        raise ValidationError(f"{participant.code} has no current consent to transcription.")
    sweep_expired()
    mine = [p for p in previews() if p.meta.get("user") == user_id]
    if len(mine) >= settings.IMPORT_STAGING_MAX_PREVIEWS:
        raise ValidationError(
            f"You have {len(mine)} import previews waiting to be confirmed, the most one person "
            "may have. Import or cancel one of them first (unconfirmed previews are deleted "
            "after a day)."
        )
    waiting = sum(p.meta.get("bytes", 0) for p in mine)
    if waiting + size > settings.IMPORT_STAGING_MAX_BYTES:
        raise ValidationError(
            f"These files and the previews you have waiting would pass "
            f"{size_label(settings.IMPORT_STAGING_MAX_BYTES)}, the most "
            "one person may have waiting. Import or cancel a waiting preview, or upload fewer "
            "files."
        )
    token = uuid.uuid4().hex
    folder = _root() / token
    folder.mkdir(parents=True, mode=0o700)
    meta = {
        "study": study_id,
        "user": user_id,
        "participant": participant.pk,
        "created": time.time(),
        "names": [],
        "sha256": [],
        "bytes": 0,
    }
    _write_meta(folder, meta)
    return token


def stage_add(token: str, *, name: str, data: bytes, sha256: str, text_sha256: str = "") -> None:
    """Add one file to a preview begun with ``stage_begin``; ``text_sha256`` is the hash of the
    text made from it, by which other previews find the same words (``waiting_texts``)."""
    folder = _root() / token
    meta = _read_meta(folder)
    if not _TOKEN.match(token) or meta is None:
        raise ValueError(f"No preview is being staged under {token!r}.")
    (folder / f"{len(meta['names'])}.bin").write_bytes(data)
    meta["names"].append(name)
    meta["sha256"].append(sha256)
    meta.setdefault("text_sha256", []).append(text_sha256)
    meta["bytes"] += len(data)
    _write_meta(folder, meta)


def load(token: str, *, study_id: int, user_id: int) -> list[StagedFile] | None:
    """The staged files, or None if the token is unknown, expired or someone else's."""
    if not _TOKEN.match(token or ""):
        return None
    folder = _root() / token
    meta = _read_meta(folder)
    if meta is None or meta.get("study") != study_id or meta.get("user") != user_id:
        return None
    if _expired(folder, time.time()):
        return None
    return [StagedFile(name, folder / f"{index}.bin") for index, name in enumerate(meta["names"])]


def waiting_texts(*, study_id: int, but: str) -> set[str]:
    """Hashes of the texts waiting in this study's other previews (anyone's), so a preview can
    warn that the same words are about to be imported twice."""
    return {
        text
        for p in previews()
        if p.meta.get("study") == study_id and p.token != but
        for text in p.meta.get("text_sha256", [])
        if text
    }


def discard(token: str) -> None:
    if _TOKEN.match(token or ""):
        shutil.rmtree(_root() / token, ignore_errors=True)


def discard_for(*, study_id: int, participant_id: int, sha256: str = "") -> int:
    """Delete the previews staged for this participant, and those holding a file with this
    SHA-256 (a transcript's original), in this study, whoever staged them; how many."""
    doomed = [
        p.token
        for p in previews()
        if p.meta.get("study") == study_id
        and (p.meta.get("participant") == participant_id or sha256 in p.meta.get("sha256", []))
    ]
    for token in doomed:
        discard(token)
    return len(doomed)


def sweep_expired() -> int:
    """Delete previews older than a day (and folders left half-written); how many."""
    root = _root()
    if not root.exists():
        return 0
    now = time.time()
    doomed = [folder for folder in root.iterdir() if folder.is_dir() and _expired(folder, now)]
    for folder in doomed:
        shutil.rmtree(folder, ignore_errors=True)
    return len(doomed)


def sweep_withdrawn() -> int:
    """Delete previews staged for a participant who has withdrawn (an upload that finished
    just after the withdrawal) or who no longer exists; how many."""
    staged = [(p.token, p.meta.get("participant")) for p in previews()]
    ids = {participant for _, participant in staged if participant is not None}
    current = dict(
        with_consent(Participant.objects.filter(pk__in=ids)).values_list("pk", "consent_kind")
    )
    doomed = [
        token
        for token, participant in staged
        if participant is not None
        and (participant not in current or current[participant] == ConsentKind.WITHDRAWAL)
    ]
    for token in doomed:
        discard(token)
    return len(doomed)
