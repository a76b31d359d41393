"""Transcript list, reading page, details, stewardship (purging)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from transcripts import panels as list_panels
from transcripts.forms import PurgeForm, TranscriptEditForm
from transcripts.models import (
    AttributeTarget,
    TranscriptStatus,
)
from transcripts.selectors import consent as consent_selectors
from transcripts.selectors import transcripts as transcript_selectors
from transcripts.selectors.attributes import attribute_rows
from transcripts.services import transcripts as transcript_services
from workbench.access import study_for
from workbench.forms import apply_service, posted
from workbench.selectors.members import member_users


@require_GET
@login_required
def transcript_list(request, study_slug):
    access = study_for(request, study_slug)
    study = access.study
    filters = {key: request.GET.get(key, "") for key in transcript_selectors.LIST_FILTERS}
    transcripts, by_status = transcript_selectors.transcript_list(study, filters)
    page = Paginator(transcripts, 100).get_page(request.GET.get("page"))
    rows = transcript_selectors.with_consent_state(page.object_list)
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
    else:  # the panels sit outside the results a filter swaps
        context |= list_panels.page_context(request, access, context)
    return render(request, template, context)


def _transcript_or_404(study, pk):
    transcript = study.transcripts.select_related("participant__case").filter(pk=pk).first()
    if transcript is None:
        raise Http404
    return transcript


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
    turns, matches = transcript_selectors.reading_turns(transcript, query)
    participant = transcript.participant
    layers = list(transcript.layers.all())
    can_code = any(layer.coder_id == request.user.pk for layer in layers) or (
        layers and (access.can("manage_assignments") or access.can("review_codings"))
    )
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
        "participant_rows": attribute_rows(study, AttributeTarget.PARTICIPANT, participant),
        "case_rows": attribute_rows(study, AttributeTarget.CASE, participant.case),
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
        posted(request), initial=initial, study=study, members=member_users(study)
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
    path("transcripts/<int:pk>/", transcript_detail, name="transcript_detail"),
    path("transcripts/<int:pk>/edit/", transcript_edit, name="transcript_edit"),
    path("transcripts/<int:pk>/purge/", transcript_purge, name="transcript_purge"),
    path("stewardship/", stewardship, name="stewardship"),
]
