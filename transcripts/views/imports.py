"""Importing transcripts: upload, preview (speakers mapped to roles, details per file), confirm."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from transcripts.forms import TranscriptMetaForm, UploadForm
from transcripts.models import (
    SpeakerRole,
)
from transcripts.selectors import imports as importing
from transcripts.services import imports as import_services
from transcripts.services import staging
from workbench.access import study_for
from workbench.forms import posted
from workbench.selectors.members import member_users


def _meta_form(study, members, index, candidate=None, participant=None, data=None):
    initial = {}
    if candidate is not None:
        initial = {"title": candidate.name.rsplit(".", 1)[0], "participant": participant}
    return TranscriptMetaForm(
        data, prefix=f"f{index}", initial=initial, study=study, members=members
    )


def _preview_items(study, candidates, participant, data=None):
    members = member_users(study)
    items = []
    for index, candidate in enumerate(candidates):
        parsed = candidate.parsed
        roles = [
            {
                "label": label,
                "field": f"f{index}-role-{position}",
                "role": (data or {}).get(f"f{index}-role-{position}") or candidate.roles[label],
                "turns": sum(1 for turn in parsed.turns if turn.speaker == label),
            }
            for position, label in enumerate(parsed.speakers)
        ]
        items.append(
            {
                "index": index,
                "candidate": candidate,
                "roles": roles,
                "first_turns": [
                    {"speaker": turn.speaker, "text": parsed.text[turn.start : turn.end][:300]}
                    for turn in parsed.turns[:5]
                ],
                "form": _meta_form(study, members, index, candidate, participant, data),
            }
        )
    return items


def _examine_and_stage(request, study, uploads, participant):
    """Parse the uploaded files for the preview and stage exactly what it shows (plus
    speaker-name companions), in order, so that the confirmation re-reads the same files at
    the same indexes. Returns the staging token, the candidates and the refused files."""
    limit = settings.TRANSCRIPT_MAX_BYTES
    too_big = [
        importing.Rejected(
            upload.name,
            f"{upload.name}: larger than the {limit // (1024 * 1024)} MB limit for a transcript.",
        )
        for upload in uploads
        if upload.size > limit
    ]
    readable = [(upload.name, upload.read()) for upload in uploads if upload.size <= limit]
    candidates, rejected = importing.examine(readable, participant)
    token = ""
    if candidates:
        by_digest = {importing.sha256(data): data for _, data in readable}
        staged = [staging.StagedFile(c.name, by_digest[c.sha256]) for c in candidates]
        staged += [
            staging.StagedFile(name, data)
            for name, data in readable
            if importing.is_companion(name)
        ]
        token = staging.stage(study_id=study.pk, user_id=request.user.pk, files=staged)
    return token, candidates, too_big + rejected


@require_http_methods(["GET", "POST"])
@login_required
def transcript_import(request, study_slug):
    access = study_for(request, study_slug, need="import_transcripts")
    study = access.study
    form = UploadForm(posted(request), request.FILES or None, study=study)
    context = {
        "access": access,
        "study": study,
        "form": form,
        "limit_mb": settings.TRANSCRIPT_MAX_BYTES // (1024 * 1024),
    }
    if request.method == "POST" and form.is_valid():
        uploads = request.FILES.getlist("files")
        if not uploads:
            form.add_error(None, "Choose one or more files to import.")
        else:
            participant = form.cleaned_data["participant"]
            token, candidates, rejected = _examine_and_stage(request, study, uploads, participant)
            context |= {
                "token": token,
                "items": _preview_items(study, candidates, participant),
                "rejected": rejected,
                "participant": participant,
                "role_choices": SpeakerRole.choices,
            }
    template = "transcripts/import.html"
    if request.htmx:
        template += "#import-body"
    return render(request, template, context)


def _import_one(request, study, members, index, candidate):
    """Import one previewed file with the details and speaker roles posted for it; returns
    (transcript, None), or (None, the problem)."""
    form = _meta_form(study, members, index, data=request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(e)}" for field, e in form.errors.items())
        return None, f"{candidate.name}: {errors}"
    roles = {
        label: request.POST.get(f"f{index}-role-{position}", candidate.roles[label])
        for position, label in enumerate(candidate.parsed.speakers)
    }
    data = form.cleaned_data
    try:
        return import_services.transcript_import(
            actor=request.user,
            study=study,
            participant=data["participant"],
            parsed=candidate.parsed,
            filename=candidate.name,
            original_sha256=candidate.sha256,
            original_size=candidate.size,
            speaker_roles=roles,
            title=data["title"],
            interview_date=data["interview_date"],
            interviewers=list(data["interviewers"]),
            mode=data["mode"],
            duration_minutes=data["duration_minutes"],
            language=data["language"],
        ), None
    except ValidationError as exc:
        return None, f"{candidate.name}: {' '.join(exc.messages)}"


@require_POST
@login_required
def transcript_import_confirm(request, study_slug, token):
    access = study_for(request, study_slug, need="import_transcripts")
    study = access.study
    files = staging.load(token, study_id=study.pk, user_id=request.user.pk)
    if files is None:
        messages.error(request, "This preview has expired or was already imported; upload again.")
        return redirect("transcript_import", study_slug=study_slug)
    candidates, _ = importing.examine([(f.name, f.data) for f in files], None)
    members = member_users(study)
    imported, problems = [], []
    for index, candidate in enumerate(candidates):
        if request.POST.get(f"f{index}-skip"):
            continue
        transcript, problem = _import_one(request, study, members, index, candidate)
        if problem:
            problems.append(problem)
        else:
            imported.append(transcript)
    staging.discard(token)
    if imported:
        messages.success(
            request,
            f"Imported {len(imported)} transcript{'s' if len(imported) != 1 else ''}: "
            + ", ".join(t.title for t in imported)
            + ".",
        )
    for problem in problems:
        messages.error(request, f"Not imported — {problem}")
    return redirect("transcript_list", study_slug=study_slug)


@require_POST
@login_required
def transcript_import_cancel(request, study_slug, token):
    access = study_for(request, study_slug, need="import_transcripts")
    if staging.load(token, study_id=access.study.pk, user_id=request.user.pk) is not None:
        staging.discard(token)
    messages.success(request, "Import cancelled; nothing was stored.")
    return redirect("transcript_import", study_slug=study_slug)


urlpatterns = [
    path("transcripts/import/", transcript_import, name="transcript_import"),
    path(
        "transcripts/import/<str:token>/confirm/",
        transcript_import_confirm,
        name="transcript_import_confirm",
    ),
    path(
        "transcripts/import/<str:token>/cancel/",
        transcript_import_cancel,
        name="transcript_import_cancel",
    ),
]
