"""Participants, their attributes, contact details and consent."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from transcripts.forms import ConsentForm, ParticipantForm, WithdrawalForm
from transcripts.models import AttributeTarget, ConsentUse
from transcripts.selectors import cases as case_selectors
from transcripts.selectors import consent as consent_selectors
from transcripts.selectors import participants as participant_selectors
from transcripts.selectors.attributes import display
from transcripts.services import consent as consent_services
from transcripts.services import participants as participant_services
from workbench.access import study_for
from workbench.forms import apply_service, posted


def _participant_form(access, data=None, participant=None):
    study = access.study
    kwargs = {
        "study": study,
        "attributes": case_selectors.attributes_for(study, AttributeTarget.PARTICIPANT),
        "with_contacts": access.can("view_contacts"),
    }
    if participant is not None:
        kwargs["values"] = participant.attributes
        kwargs["initial"] = {
            "code": participant.code,
            "case": participant.case_id,
            "version": participant.version,
            "contact_name": participant.contact_name,
            "contact_email": participant.contact_email,
            "contact_notes": participant.contact_notes,
        }
    return ParticipantForm(data, **kwargs)


def _rows(participants, attributes):
    for participant in participants:
        participant.consent_state = consent_selectors.consent_state(
            participant.consent_kind, participant.consent_analyse, participant.consent_retain_until
        )
        participant.attribute_cells = [
            display(attribute, participant.attributes.get(str(attribute.pk)))
            for attribute in attributes
        ]
    return participants


def _list_page(request, access, form=None):
    """The participant list, filtered as the query string asks, with the add form if allowed."""
    study = access.study
    attributes = case_selectors.attributes_for(study, AttributeTarget.PARTICIPANT)
    participants = participant_selectors.participants(study)
    case_filter = request.GET.get("case", "")
    state_filter = request.GET.get("consent", "")
    if case_filter.isdigit():
        participants = participants.filter(case_id=int(case_filter))
    if state_filter:
        participants = consent_selectors.filter_consent_state(participants, state_filter)
    if form is None and access.can("manage_participants"):
        form = _participant_form(access)
    context = {
        "access": access,
        "study": study,
        "attributes": attributes,
        "participants": _rows(list(participants), attributes),
        "cases": list(study.cases.all()),
        "states": consent_selectors.ConsentState.CHOICES,
        "case_filter": case_filter,
        "state_filter": state_filter,
        "form": form,
    }
    return render(request, "transcripts/participants.html", context)


@require_GET
@login_required
def participant_list(request, study_slug):
    return _list_page(request, study_for(request, study_slug))


@require_POST
@login_required
def participant_create(request, study_slug):
    access = study_for(request, study_slug, need="manage_participants")
    form = _participant_form(access, request.POST)
    if form.is_valid():
        participant = apply_service(
            form,
            participant_services.participant_create,
            actor=request.user,
            study=access.study,
            code=form.cleaned_data["code"],
            case=form.cleaned_data["case"],
            attributes=form.attribute_values(),
            **form.contact(),
        )
        if participant is not None:
            messages.success(request, f"Participant {participant.code} added.")
            return redirect("participant_detail", study_slug=study_slug, pk=participant.pk)
    return _list_page(request, access, form)


def _detail_context(access, participant, **forms):
    study = access.study
    attributes = case_selectors.attributes_for(study, AttributeTarget.PARTICIPANT)
    case_attributes = case_selectors.attributes_for(study, AttributeTarget.CASE)
    records = list(participant.consent_records.all())
    for record in records:
        scope = record.scope()
        record.allowed_labels = [label for use, label in ConsentUse.choices if scope[use]]
        record.denied_labels = [label for use, label in ConsentUse.choices if not scope[use]]
    current = records[0] if records else None
    transcripts = consent_selectors.with_consent(
        participant.transcripts.all(), "participant_id"
    ).order_by("interview_date", "id")
    return {
        "access": access,
        "study": study,
        "participant": participant,
        "attribute_rows": [
            (a.name, display(a, participant.attributes.get(str(a.pk)))) for a in attributes
        ],
        "case_rows": [
            (a.name, display(a, participant.case.attributes.get(str(a.pk))))
            for a in case_attributes
        ]
        if participant.case
        else [],
        "records": records,
        "current": current,
        "transcripts": list(transcripts),
        "analysable": current is not None and current.allows("analyse"),
        "consent_form": forms.get("consent_form") or ConsentForm(),
        "withdrawal_form": forms.get("withdrawal_form") or WithdrawalForm(),
    }


def _participant_or_404(access, pk):
    participant = participant_selectors.participant_detail(access.study, pk)
    if participant is None:
        raise Http404
    return participant


@require_GET
@login_required
def participant_detail(request, study_slug, pk):
    access = study_for(request, study_slug)
    participant = _participant_or_404(access, pk)
    return render(
        request, "transcripts/participant_detail.html", _detail_context(access, participant)
    )


@require_http_methods(["GET", "POST"])
@login_required
def participant_edit(request, study_slug, pk):
    access = study_for(request, study_slug, need="manage_participants")
    participant = _participant_or_404(access, pk)
    form = _participant_form(access, posted(request), participant)
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            participant_services.participant_update,
            actor=request.user,
            participant=participant,
            version=form.cleaned_data["version"],
            code=form.cleaned_data["code"],
            case=form.cleaned_data["case"],
            attributes=form.attribute_values(),
            **form.contact(),
        )
        if saved is not None:
            messages.success(request, f"Participant {saved.code} saved.")
            return redirect("participant_detail", study_slug=study_slug, pk=pk)
    return render(
        request,
        "transcripts/participant_form.html",
        {"access": access, "study": access.study, "participant": participant, "form": form},
    )


@require_POST
@login_required
def consent_record(request, study_slug, pk):
    access = study_for(request, study_slug, need="manage_consent")
    participant = _participant_or_404(access, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        record = apply_service(
            form,
            consent_services.consent_record,
            actor=request.user,
            participant=participant,
            form_version=form.cleaned_data["form_version"],
            effective_on=form.cleaned_data["effective_on"],
            allowed=set(form.cleaned_data["allowed"]),
            retain_until=form.cleaned_data["retain_until"],
        )
        if record is not None:
            messages.success(request, f"Consent of {participant.code} recorded.")
            return redirect(reverse("participant_detail", args=[study_slug, pk]) + "#consent")
    context = _detail_context(access, participant, consent_form=form)
    return render(request, "transcripts/participant_detail.html", context)


@require_POST
@login_required
def consent_withdraw(request, study_slug, pk):
    access = study_for(request, study_slug, need="manage_consent")
    participant = _participant_or_404(access, pk)
    form = WithdrawalForm(request.POST)
    if form.is_valid():
        record = apply_service(
            form,
            consent_services.consent_withdraw,
            actor=request.user,
            participant=participant,
            effective_on=form.cleaned_data["effective_on"],
            reason=form.cleaned_data["reason"],
        )
        if record is not None:
            messages.success(
                request,
                f"Withdrawal of {participant.code} recorded. Their transcripts are locked; "
                "purge them from Data stewardship.",
            )
            return redirect(reverse("participant_detail", args=[study_slug, pk]) + "#consent")
    context = _detail_context(access, participant, withdrawal_form=form)
    return render(request, "transcripts/participant_detail.html", context)


urlpatterns = [
    path("participants/", participant_list, name="participant_list"),
    path("participants/new/", participant_create, name="participant_create"),
    path("participants/<int:pk>/", participant_detail, name="participant_detail"),
    path("participants/<int:pk>/edit/", participant_edit, name="participant_edit"),
    path("participants/<int:pk>/consent/", consent_record, name="consent_record"),
    path("participants/<int:pk>/withdraw/", consent_withdraw, name="consent_withdraw"),
]
