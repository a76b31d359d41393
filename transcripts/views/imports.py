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
from transcripts.selectors import consent as consent_selectors
from transcripts.selectors import imports as importing
from transcripts.services import imports as import_services
from transcripts.services import staging
from workbench import uploads as upload_limits
from workbench.access import study_for
from workbench.forms import posted
from workbench.selectors.members import member_users


def _meta_form(study, members, index, name=None, participant=None, data=None, participants=None):
    initial = {}
    if name is not None:
        initial = {"title": importing.default_title(name), "participant": participant}
    return TranscriptMetaForm(
        data,
        prefix=f"f{index}",
        initial=initial,
        study=study,
        members=members,
        participants=participants,
    )


def _preview_items(study, previews, participant, allowed):
    members = member_users(study)
    offered = study.participants.filter(pk__in=allowed)
    return [
        {
            "preview": preview,
            "roles": [
                {
                    "label": label,
                    "field": f"f{preview.index}-role-{position}",
                    "role": role,
                    "turns": turns,
                }
                for position, (label, turns, role) in enumerate(preview.speakers)
            ],
            "form": _meta_form(
                study, members, preview.index, preview.name, participant, participants=offered
            ),
        }
        for preview in previews
    ]


def _reader(upload):
    """Reads an uploaded file (from its temporary file) when called, each time from the start."""

    def read() -> bytes:
        upload.seek(0)
        return upload.read()

    return read


def _examine_and_stage(request, study, uploads, participant):
    """Parse the uploaded files one at a time for the preview and stage exactly what it shows
    (then the speaker-name companions), in order, so that the confirmation re-reads the same
    files at the same indexes. Only one file and its parse are in memory at a time. Returns
    the staging token, the previews and the refused files; raises ValidationError (nothing
    staged) when the files do not fit the user's quota of waiting previews."""
    limit = settings.TRANSCRIPT_MAX_BYTES
    too_big = [
        importing.Rejected(
            upload.name,
            f"{upload.name}: larger than the {limit // (1024 * 1024)} MB limit for a transcript.",
        )
        for upload in uploads
        if upload.size > limit
    ]
    fitting = [upload for upload in uploads if upload.size <= limit]
    token = staging.stage_begin(
        study_id=study.pk,
        user_id=request.user.pk,
        participant=participant,
        size=sum(upload.size for upload in fitting),
    )
    previews, rejected = [], []
    try:
        readers = [(upload.name, _reader(upload)) for upload in fitting]
        for result in importing.examine_each(readers, participant):
            if isinstance(result, importing.Rejected):
                rejected.append(result)
                continue
            staging.stage_add(
                token,
                name=result.name,
                data=result.data,
                sha256=result.sha256,
                text_sha256=result.text_sha256,
            )
            previews.append(importing.preview_of(len(previews), result, participant))
            del result  # the parse and the bytes go before the next file is read
        for name, read in readers:
            if previews and importing.is_companion(name, read):
                data = read()
                staging.stage_add(token, name=name, data=data, sha256=importing.sha256(data))
    except BaseException:
        staging.discard(token)
        raise
    waiting = staging.waiting_texts(study_id=study.pk, but=token)
    for preview in previews:
        preview.also_waiting = preview.text_sha256 in waiting
    if not previews:
        staging.discard(token)
        token = ""
    return token, previews, too_big + rejected


@require_http_methods(["GET", "POST"])
@login_required
def transcript_import(request, study_slug):
    access = study_for(request, study_slug, need="import_transcripts")
    study = access.study
    allowed, refused = consent_selectors.transcription_split(study)
    form = UploadForm(
        posted(request), request.FILES or None, study=study, allowed=allowed, refused=refused
    )
    context = {
        "access": access,
        "study": study,
        "form": form,
        "limit_mb": settings.TRANSCRIPT_MAX_BYTES // (1024 * 1024),
        "upload_limit_mb": settings.UPLOAD_MAX_REQUEST_BYTES // (1024 * 1024),
    }
    if request.method == "POST" and form.is_valid():
        uploads = request.FILES.getlist("files")
        if refused := upload_limits.refusal(request):
            form.add_error(None, refused)
        elif not uploads:
            form.add_error(None, "Choose one or more files to import.")
        else:
            participant = form.cleaned_data["participant"]
            try:
                token, previews, rejected = _examine_and_stage(request, study, uploads, participant)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                context |= {
                    "token": token,
                    "items": _preview_items(study, previews, participant, allowed),
                    "rejected": rejected,
                    "participant": participant,
                    "role_choices": SpeakerRole.choices,
                }
    context["pending"] = staging.pending(study_id=study.pk, user_id=request.user.pk)
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
    if "" in candidate.roles:  # turns without a speaker label: who speaks, in what role
        roles[""] = request.POST.get(f"f{index}-unlabelled-role", candidate.roles[""])
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
            unlabelled_speaker=request.POST.get(f"f{index}-unlabelled-name", ""),
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
    staged = staging.load(token, study_id=study.pk, user_id=request.user.pk)
    if staged is None:
        messages.error(request, "This preview has expired or was already imported; upload again.")
        return redirect("transcript_import", study_slug=study_slug)
    members = member_users(study)
    imported, problems = [], []
    # One file at a time, as in the preview: index N is the preview's file N.
    readers = [(staged_file.name, staged_file.read) for staged_file in staged]
    for index, result in enumerate(importing.examine_each(readers, None)):
        if isinstance(result, importing.Rejected):  # the limits changed since the preview
            problems.append(result.problem)
        elif not request.POST.get(f"f{index}-skip"):
            transcript, problem = _import_one(request, study, members, index, result)
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
