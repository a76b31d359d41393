"""The study's replacement list, and pseudonymising a transcript: preview every replacement, then
confirm.

Every view calls ``study_for(..., need="import_transcripts")`` first: the list shows real names,
so even reading it is for the people who prepare transcripts (admins and leads). htmx requests
get a fragment of the same template (``template#fragment``); plain POSTs redirect, so every form
works without JavaScript.
"""

from bisect import bisect_right
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from transcripts import spans
from transcripts.forms import PseudonymRuleForm
from transcripts.models import Transcript
from transcripts.rewriting import pseudonymise
from transcripts.selectors import consent as consent_selectors
from transcripts.services import pseudonyms as pseudonym_services
from workbench.access import study_for
from workbench.forms import apply_service

NEED = "import_transcripts"


# --- the replacement list ------------------------------------------------------------------


def _list_page(request, access, *, form=None, focus=""):
    study = access.study
    context = {
        "access": access,
        "study": study,
        "rules": list(study.pseudonym_rules.all()),
        "form": form or PseudonymRuleForm(),
        "focus": focus,
    }
    template = "transcripts/pseudonyms.html"
    if request.htmx:
        return render(request, template + "#pseudonyms", context)
    transcripts = consent_selectors.with_consent(
        study.transcripts.select_related("participant").defer("text"), "participant_id"
    ).order_by("participant__code", "interview_date", "id")
    rows = list(transcripts)
    for transcript in rows:
        transcript.consent_state = consent_selectors.consent_state(
            transcript.consent_kind, transcript.consent_analyse, transcript.consent_retain_until
        )
    context["transcripts"] = rows
    context["active"] = consent_selectors.ConsentState.ACTIVE
    return render(request, template, context)


def _after_list_write(request, access, focus):
    if request.htmx:
        return _list_page(request, access, focus=focus)
    return redirect(reverse("pseudonym_list", args=[access.study.slug]) + f"#{focus}")


@require_GET
@login_required
def pseudonym_list(request, study_slug):
    access = study_for(request, study_slug, need=NEED)
    return _list_page(request, access)


@require_POST
@login_required
def pseudonym_create(request, study_slug):
    access = study_for(request, study_slug, need=NEED)
    form = PseudonymRuleForm(request.POST)
    if form.is_valid():
        rule = apply_service(
            form,
            pseudonym_services.pseudonym_rule_create,
            actor=request.user,
            study=access.study,
            **form.cleaned_data,
        )
        if rule is not None:
            messages.success(
                request,
                f"Added: “{rule.find}” becomes “{rule.replace_with}”. Transcripts change only "
                "when you preview and confirm.",
            )
            return _after_list_write(request, access, focus=f"rule-{rule.pk}")
    return _list_page(request, access, form=form, focus="add-pseudonym")


@require_POST
@login_required
def pseudonym_delete(request, study_slug, pk):
    access = study_for(request, study_slug, need=NEED)
    rule = access.study.pseudonym_rules.filter(pk=pk).first()
    if rule is None:
        raise Http404
    try:
        pseudonym_services.pseudonym_rule_delete(actor=request.user, rule=rule)
    except ValidationError as exc:
        messages.error(request, f"Not removed: {exc.messages[0]}")
    else:
        messages.success(
            request,
            f"Removed “{rule.find}” from the list. Transcripts already pseudonymised keep "
            f"“{rule.replace_with}”.",
        )
    return _after_list_write(request, access, focus="rules")


# --- preview and apply ---------------------------------------------------------------------


def _transcript_or_404(study, pk) -> Transcript:
    transcript = Transcript.objects.select_related("participant").filter(study=study, pk=pk).first()
    if transcript is None:
        raise Http404
    return transcript


def _locked(request, access, transcript):
    """The same page the reader shows: without consent to analysis the text stays closed."""
    consent = consent_selectors.current_consent(transcript.participant)
    if consent is not None and consent.allows("analyse"):
        return None
    context = {
        "access": access,
        "study": access.study,
        "transcript": transcript,
        "consent": consent,
    }
    return render(request, "transcripts/transcript_locked.html", context, status=403)


def _preview_page(request, access, transcript):
    text = transcript.text
    rules = pseudonym_services.study_rules(access.study)
    replacements = pseudonymise.find_replacements(text, rules)
    turns = list(transcript.utterances.order_by("start").values_list("start", "end", "speaker"))
    turn_starts = [start for start, _, _ in turns]
    items = []
    for number, r in enumerate(replacements, start=1):
        before, after = pseudonymise.in_context(text, r)
        turn = bisect_right(turn_starts, r.start) - 1
        in_turn = turn >= 0 and r.start < turns[turn][1]
        items.append(
            {
                "number": number,
                "r": r,
                "before": before,
                "after": after,
                # Outside every turn is a speaker label or a heading.
                "where": turns[turn][2] if in_turn else "outside the turns",
            }
        )
    per_rule = Counter(r.rule_id for r in replacements)
    context = {
        "access": access,
        "study": access.study,
        "transcript": transcript,
        "rules": rules,
        "replacements": replacements,
        "items": items,
        "per_rule": [(rule, per_rule[rule.pk]) for rule in rules if per_rule[rule.pk]],
        "rules_fingerprint": pseudonymise.rules_fingerprint(rules),
        # Codings follow their words (transcripts.spans); say so before anyone applies. Only
        # those the user may see are counted: a lead may be coding this transcript blind.
        "codings": spans.visible(request.user, access.perms, transcript).total,
    }
    template = "transcripts/pseudonym_preview.html"
    if request.htmx:
        template += "#preview"
    return render(request, template, context)


@require_GET
@login_required
def pseudonym_preview(request, study_slug, pk):
    access = study_for(request, study_slug, need=NEED)
    transcript = _transcript_or_404(access.study, pk)
    return _locked(request, access, transcript) or _preview_page(request, access, transcript)


@require_POST
@login_required
def pseudonym_apply(request, study_slug, pk):
    access = study_for(request, study_slug, need=NEED)
    transcript = _transcript_or_404(access.study, pk)
    locked = _locked(request, access, transcript)
    if locked is not None:
        return locked
    made_before = transcript.replacements_made
    try:
        version = int(request.POST.get("version", ""))
        transcript = pseudonym_services.transcript_pseudonymise(
            actor=request.user,
            transcript=transcript,
            version=version,
            expected_sha256=request.POST.get("expected_sha256", ""),
            rules_fingerprint=request.POST.get("rules_fingerprint") or None,
        )
    except ValueError:
        messages.error(request, "Nothing was replaced: the form was incomplete. Reload and retry.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        made = transcript.replacements_made - made_before
        messages.success(
            request,
            f"Pseudonymised “{transcript.title}”: {made} replacement{'s' if made != 1 else ''} "
            "made. The original names are gone from the text.",
        )
    if request.htmx:
        transcript = _transcript_or_404(access.study, pk)
        return _preview_page(request, access, transcript)
    return redirect("pseudonym_preview", study_slug=study_slug, pk=pk)


urlpatterns = [
    path("pseudonyms/", pseudonym_list, name="pseudonym_list"),
    path("pseudonyms/new/", pseudonym_create, name="pseudonym_create"),
    path("pseudonyms/<int:pk>/delete/", pseudonym_delete, name="pseudonym_delete"),
    path(
        "transcripts/<int:pk>/pseudonymise/",
        pseudonym_preview,
        name="pseudonym_preview",
    ),
    path(
        "transcripts/<int:pk>/pseudonymise/apply/",
        pseudonym_apply,
        name="pseudonym_apply",
    ),
]
