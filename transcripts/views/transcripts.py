"""Transcript list, reading page, import (upload → preview → confirm), stewardship."""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from transcripts.forms import PurgeForm, TranscriptEditForm, TranscriptMetaForm, UploadForm
from transcripts.models import (
    AttributeTarget,
    SpeakerRole,
    TranscriptStatus,
    Utterance,
)
from transcripts.selectors import cases as case_selectors
from transcripts.selectors import consent as consent_selectors
from transcripts.selectors import imports as importing
from transcripts.selectors.attributes import display
from transcripts.services import imports as import_services
from transcripts.services import staging
from transcripts.services import transcripts as transcript_services
from workbench.access import study_for
from workbench.forms import apply_service, posted

User = get_user_model()


def _members(study):
    return User.objects.filter(memberships__study=study).distinct().order_by("username")


# --- list ----------------------------------------------------------------------------------


@require_GET
@login_required
def transcript_list(request, study_slug):
    access = study_for(request, study_slug)
    study = access.study
    # Withdrawn participants' transcripts leave every list (they are on the stewardship page).
    transcripts = consent_selectors.not_withdrawn(
        consent_selectors.with_consent(
            study.transcripts.select_related("participant__case"), "participant_id"
        )
    )
    filters = {
        key: request.GET.get(key, "") for key in ("case", "participant", "consent", "status")
    }
    if filters["case"].isdigit():
        transcripts = transcripts.filter(participant__case_id=int(filters["case"]))
    if filters["participant"].isdigit():
        transcripts = transcripts.filter(participant_id=int(filters["participant"]))
    if filters["consent"]:
        transcripts = consent_selectors.filter_consent_state(transcripts, filters["consent"])
    if filters["status"] in TranscriptStatus.values:
        transcripts = transcripts.filter(status=filters["status"])
    by_status = dict(
        transcripts.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    # A subquery, not a join: grouping by every column would drag each full text along.
    turns = (
        Utterance.objects.filter(transcript=OuterRef("pk"))
        .order_by()
        .values("transcript")
        .annotate(n=Count("id"))
        .values("n")
    )
    transcripts = (
        transcripts.defer("text")
        .annotate(turns=Subquery(turns))
        .order_by("participant__code", "interview_date", "id")
    )
    page = Paginator(transcripts, 100).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for transcript in rows:
        transcript.consent_state = consent_selectors.consent_state(
            transcript.consent_kind, transcript.consent_analyse, transcript.consent_retain_until
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "access": access,
        "study": study,
        "transcripts": rows,
        "page": page,
        "query": query.urlencode(),
        "total": sum(by_status.values()),
        "filters": filters,
        "cases": list(study.cases.all()),
        "participants": list(study.participants.all()),
        "states": [s for s in consent_selectors.ConsentState.CHOICES if s[0] != "withdrawn"],
        "statuses": TranscriptStatus.choices,
        "counts": [(label, by_status.get(value, 0)) for value, label in TranscriptStatus.choices],
    }
    template = "transcripts/transcript_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


# --- reading -------------------------------------------------------------------------------


def _highlight(text: str, pattern: re.Pattern | None) -> tuple[str, int]:
    """HTML-escaped text with <mark> around each match, and the number of matches."""
    if pattern is None:
        return escape(text), 0
    pieces, last, count = [], 0, 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        last, count = match.end(), count + 1
    pieces.append(escape(text[last:]))
    return "".join(pieces), count


def _transcript_or_404(study, pk):
    transcript = study.transcripts.select_related("participant__case").filter(pk=pk).first()
    if transcript is None:
        raise Http404
    return transcript


def _ms(value):
    if value is None:
        return ""
    seconds = value // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@require_GET
@login_required
def transcript_detail(request, study_slug, pk):
    access = study_for(request, study_slug)
    study = access.study
    transcript = _transcript_or_404(study, pk)
    consent = consent_selectors.current_consent(transcript.participant)
    if consent is None or not consent.allows("analyse"):
        return render(
            request,
            "transcripts/transcript_locked.html",
            {"access": access, "study": study, "transcript": transcript, "consent": consent},
            status=403,
        )
    query = request.GET.get("q", "").strip()
    pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
    text = transcript.text
    turns, matches = [], 0
    for utterance in transcript.utterances.all():
        html, found = _highlight(text[utterance.start : utterance.end], pattern)
        matches += found
        turns.append(
            {
                "utterance": utterance,
                "html": mark_safe(html),  # escaped piece by piece in _highlight
                "time": _ms(utterance.start_ms),
                "has_match": found > 0,
            }
        )
    participant = transcript.participant
    layers = list(transcript.layers.all())
    can_code = any(layer.coder_id == request.user.pk for layer in layers) or (
        layers and (access.can("manage_assignments") or access.can("review_codings"))
    )
    case_attributes = case_selectors.attributes_for(study, AttributeTarget.CASE)
    participant_attributes = case_selectors.attributes_for(study, AttributeTarget.PARTICIPANT)
    context = {
        "access": access,
        "study": study,
        "transcript": transcript,
        "participant": participant,
        "consent": consent,
        "turns": turns,
        "query": query,
        "matches": matches,
        "interviewers": list(transcript.interviewers.all()),
        "can_code": can_code,
        "participant_rows": [
            (a.name, display(a, participant.attributes.get(str(a.pk))))
            for a in participant_attributes
        ],
        "case_rows": [
            (a.name, display(a, participant.case.attributes.get(str(a.pk))))
            for a in case_attributes
        ]
        if participant.case
        else [],
    }
    template = "transcripts/transcript_detail.html"
    if request.htmx:
        template += "#turns"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
def transcript_edit(request, study_slug, pk):
    access = study_for(request, study_slug, need="import_transcripts")
    study = access.study
    transcript = _transcript_or_404(study, pk)
    initial = {
        "title": transcript.title,
        "status": transcript.status,
        "interview_date": transcript.interview_date,
        "interviewers": list(transcript.interviewers.all()),
        "mode": transcript.mode,
        "duration_minutes": transcript.duration_minutes,
        "language": transcript.language,
        "version": transcript.version,
    }
    form = TranscriptEditForm(
        posted(request), initial=initial, study=study, members=_members(study)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = apply_service(
            form,
            transcript_services.transcript_update,
            actor=request.user,
            transcript=transcript,
            version=data["version"],
            title=data["title"],
            status=data["status"],
            interview_date=data["interview_date"],
            interviewers=list(data["interviewers"]),
            mode=data["mode"],
            duration_minutes=data["duration_minutes"],
            language=data["language"],
        )
        if saved is not None:
            messages.success(request, "Transcript details saved.")
            return redirect("transcript_detail", study_slug=study_slug, pk=pk)
    return render(
        request,
        "transcripts/transcript_edit.html",
        {"access": access, "study": study, "transcript": transcript, "form": form},
    )


# --- import --------------------------------------------------------------------------------


def _meta_form(study, members, index, candidate=None, participant=None, data=None):
    initial = {}
    if candidate is not None:
        initial = {"title": candidate.name.rsplit(".", 1)[0], "participant": participant}
    return TranscriptMetaForm(
        data, prefix=f"f{index}", initial=initial, study=study, members=members
    )


def _preview_items(study, candidates, participant, data=None):
    members = _members(study)
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
            files = []
            for upload in uploads:
                if upload.size > settings.TRANSCRIPT_MAX_BYTES:
                    files.append((upload.name, None))
                else:
                    files.append((upload.name, upload.read()))
            too_big = [
                importing.Rejected(
                    name,
                    f"{name}: larger than the {context['limit_mb']} MB limit for a transcript.",
                )
                for name, data in files
                if data is None
            ]
            readable = [(name, data) for name, data in files if data is not None]
            candidates, rejected = importing.examine(readable, participant)
            token = ""
            if candidates:
                # Stage exactly what the preview shows (plus speaker-name companions), in
                # order, so that the confirmation re-reads the same files at the same indexes.
                by_digest = {importing.sha256(data): data for _, data in readable}
                staged = [staging.StagedFile(c.name, by_digest[c.sha256]) for c in candidates]
                staged += [
                    staging.StagedFile(name, data)
                    for name, data in readable
                    if importing.is_companion(name)
                ]
                token = staging.stage(study_id=study.pk, user_id=request.user.pk, files=staged)
            context |= {
                "token": token,
                "items": _preview_items(study, candidates, participant),
                "rejected": too_big + rejected,
                "participant": participant,
                "role_choices": SpeakerRole.choices,
            }
    template = "transcripts/import.html"
    if request.htmx:
        template += "#import-body"
    return render(request, template, context)


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
    members = _members(study)
    imported, problems = [], []
    for index, candidate in enumerate(candidates):
        if request.POST.get(f"f{index}-skip"):
            continue
        form = _meta_form(study, members, index, data=request.POST)
        if not form.is_valid():
            problems.append(
                f"{candidate.name}: "
                + "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
            )
            continue
        roles = {
            label: request.POST.get(f"f{index}-role-{position}", candidate.roles[label])
            for position, label in enumerate(candidate.parsed.speakers)
        }
        data = form.cleaned_data
        try:
            transcript = import_services.transcript_import(
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
            )
        except ValidationError as exc:
            problems.append(f"{candidate.name}: {' '.join(exc.messages)}")
            continue
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


# --- stewardship ---------------------------------------------------------------------------


@require_GET
@login_required
def stewardship(request, study_slug):
    """Transcripts due for purging: withdrawn participants and passed retention dates."""
    access = study_for(request, study_slug, need="manage_consent")
    study = access.study
    today = timezone.localdate()
    annotated = consent_selectors.with_consent(
        study.transcripts.select_related("participant"), "participant_id"
    )
    withdrawn = list(
        consent_selectors.filter_consent_state(
            annotated, consent_selectors.ConsentState.WITHDRAWN, today
        )
    )
    expired = list(
        consent_selectors.filter_consent_state(
            annotated, consent_selectors.ConsentState.EXPIRED, today
        )
    )
    return render(
        request,
        "transcripts/stewardship.html",
        {
            "access": access,
            "study": study,
            "withdrawn": withdrawn,
            "expired": expired,
            "form": PurgeForm(),
        },
    )


@require_POST
@login_required
def transcript_purge(request, study_slug, pk):
    access = study_for(request, study_slug, need="manage_consent")
    transcript = _transcript_or_404(access.study, pk)
    form = PurgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason and tick the confirmation to purge.")
        return redirect("stewardship", study_slug=study_slug)
    title = transcript.title
    try:
        transcript_services.transcript_purge(
            actor=request.user, transcript=transcript, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{title}” purged: its text and turns are gone for good.")
    return redirect(reverse("stewardship", args=[study_slug]))


urlpatterns = [
    path("transcripts/", transcript_list, name="transcript_list"),
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
    path("transcripts/<int:pk>/", transcript_detail, name="transcript_detail"),
    path("transcripts/<int:pk>/edit/", transcript_edit, name="transcript_edit"),
    path("transcripts/<int:pk>/purge/", transcript_purge, name="transcript_purge"),
    path("stewardship/", stewardship, name="stewardship"),
]
