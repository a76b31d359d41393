"""Correcting a transcript's text: turn by turn, or find-and-replace everywhere.

For the people who prepare transcripts (``import_transcripts``: admins and leads). The work is
done by ``transcripts.corrections``; these views only turn forms into edits and say what
happened. htmx requests get fragments of the same template (``template#fragment``); without
JavaScript every link and form reaches a full page, so the page works either way.
"""

from bisect import bisect_right

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import retarget

from transcripts import spans
from transcripts.forms import ReplaceAllForm, TurnCorrectionForm
from transcripts.models import Transcript
from transcripts.rewriting import pseudonymise
from transcripts.selectors import consent as consent_selectors
from transcripts.services import corrections
from workbench.access import study_for
from workbench.forms import apply_service

NEED = "import_transcripts"
TEMPLATE = "transcripts/transcript_correct.html"


# --- shared --------------------------------------------------------------------------------


def _transcript_or_404(study, pk) -> Transcript:
    transcript = Transcript.objects.select_related("participant").filter(study=study, pk=pk).first()
    if transcript is None:
        raise Http404
    return transcript


def _gate(request, study_slug, pk):
    """Access, the transcript, and the locked page when consent does not cover analysis."""
    access = study_for(request, study_slug, need=NEED)
    transcript = _transcript_or_404(access.study, pk)
    consent = consent_selectors.current_consent(transcript.participant)
    if consent is not None and consent.allows("analyse"):
        return access, transcript, None
    context = {"access": access, "study": access.study, "transcript": transcript}
    locked = render(
        request, "transcripts/transcript_locked.html", context | {"consent": consent}, status=403
    )
    return access, transcript, locked


def _visible(request, access, transcript) -> spans.Visible:
    """The codings the user may see (``transcripts.spans``): a lead who codes this transcript
    blind is shown no count of the other coder's layer here either."""
    return spans.visible(request.user, access.perms, transcript)


def _turn_rows(transcript, visible: spans.Visible) -> list[dict]:
    """Every turn with its text and how many of the ``visible`` codings start in it."""
    text = transcript.text
    utterances = list(transcript.utterances.order_by("index"))
    starts = [u.start for u in utterances]
    codings = [0] * len(utterances)
    flagged = [0] * len(utterances)
    for start, needs_recheck in visible.spans:
        turn = bisect_right(starts, start) - 1
        if turn >= 0 and start < utterances[turn].end:
            codings[turn] += 1
            flagged[turn] += needs_recheck
    return [
        {
            "utterance": u,
            "index": u.index,
            "number": u.index + 1,
            "text": text[u.start : u.end],
            "codings": codings[i],
            "flagged": flagged[i],
        }
        for i, u in enumerate(utterances)
    ]


def _context(access, transcript, visible: spans.Visible, **extra) -> dict:
    return {
        "access": access,
        "study": access.study,
        "transcript": transcript,
        "codings_total": visible.total,
        "codings_flagged": visible.flagged,
        "codings_hidden": visible.hidden,
        "focus": "",
        "open_turn": None,
        "replace_form": ReplaceAllForm(),
        "preview": None,
    } | extra


def _page(request, access, transcript, *, status=200, **extra):
    """The whole page (htmx: the part below the heading, ``#correct``)."""
    visible = _visible(request, access, transcript)
    context = _context(access, transcript, visible, **extra)
    context["turns"] = _turn_rows(transcript, visible)
    template = TEMPLATE + "#correct" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


def _after_write(request, access, transcript, focus):
    if request.htmx:
        # Every form on the page carried the old version: all of it is drawn again.
        transcript = _transcript_or_404(access.study, transcript.pk)
        return retarget(_page(request, access, transcript, focus=focus), "#correct")
    url = reverse("transcript_correct", args=[access.study.slug, transcript.pk])
    return redirect(f"{url}#{focus}")


def _saved_message(request, result, prefix="Saved.") -> None:
    messages.success(request, f"{prefix} {result.summary()}")


# --- the page ------------------------------------------------------------------------------


@require_GET
@login_required
def transcript_correct(request, study_slug, pk):
    access, transcript, locked = _gate(request, study_slug, pk)
    return locked or _page(request, access, transcript)


# --- one turn ------------------------------------------------------------------------------


def _turn_of(request, transcript, visible: spans.Visible) -> dict | None:
    """The turn named by ``?turn=`` (its index), with its text, or None."""
    index = request.GET.get("turn", "")
    if not index.isdigit():
        return None
    rows = _turn_rows(transcript, visible)
    return next((row for row in rows if row["index"] == int(index)), None)


def _turn_form(turn, transcript, data=None) -> TurnCorrectionForm:
    initial = {"text": turn["text"], "version": transcript.version}
    return TurnCorrectionForm(data, initial=initial, prefix=f"turn-{turn['index']}")


@require_http_methods(["GET", "POST"])
@login_required
def transcript_correct_turn(request, study_slug, pk):
    """GET: a turn's correction form (``&cancel=1``: the turn as it reads). POST: save it."""
    access, transcript, locked = _gate(request, study_slug, pk)
    if locked:
        return locked
    visible = _visible(request, access, transcript)
    turn = _turn_of(request, transcript, visible)
    if turn is None:
        messages.error(request, "That turn was not found; choose one from the list.")
        return _after_write(request, access, transcript, focus="turns")
    context = _context(access, transcript, visible, turn=turn)
    if request.method == "GET":
        if request.GET.get("cancel"):
            if request.htmx:
                return render(request, TEMPLATE + "#turn-body", context)
            return _after_write(request, access, transcript, focus=f"turn-{turn['index']}")
        form = _turn_form(turn, transcript)
    else:
        form = _turn_form(turn, transcript, request.POST)
        if form.is_valid():
            result = apply_service(
                form,
                corrections.transcript_correct,
                actor=request.user,
                transcript=transcript,
                version=form.cleaned_data["version"],
                edits=[_turn_edit(transcript, turn, form.cleaned_data["text"])],
                reason=form.cleaned_data["reason"],
            )
            if result is not None:
                _saved_message(request, result, f"Saved turn {turn['number']}.")
                return _after_write(request, access, transcript, focus=f"turn-{turn['index']}")
    if request.htmx:
        return render(request, TEMPLATE + "#turn-form", context | {"form": form})
    open_turn = {"index": turn["index"], "form": form}
    return _page(request, access, transcript, open_turn=open_turn, focus=f"turn-{turn['index']}")


def _turn_edit(transcript, turn, typed: str):
    """The whole turn replaced by what was typed; the character diff finds what changed.

    What was typed is stripped (a textarea adds stray line ends), but blank space the turn
    itself had at its edges is kept, so that nothing outside the turn's words moves.
    """
    start, end = turn["utterance"].start, turn["utterance"].end
    old = transcript.text[start:end]
    lead = old[: len(old) - len(old.lstrip())]
    trail = old[len(old.rstrip()) :]
    return start, end, lead + typed.strip() + trail


# --- find and replace everywhere -----------------------------------------------------------


def _preview(transcript, edits) -> list[dict]:
    """Each occurrence in its context, and in which turn it is."""
    text = transcript.text
    utterances = list(transcript.utterances.order_by("start"))
    starts = [u.start for u in utterances]
    items = []
    for number, (start, end, replacement) in enumerate(edits, start=1):
        found = pseudonymise.Replacement(start, end, text[start:end], replacement)
        before, after = pseudonymise.in_context(text, found)
        turn = bisect_right(starts, start) - 1
        in_turn = turn >= 0 and start < utterances[turn].end
        where = (
            f"turn {utterances[turn].index + 1} ({utterances[turn].speaker or 'no speaker'})"
            if in_turn
            else "outside the turns (a speaker label or heading)"
        )
        items.append(
            {"number": number, "r": found, "before": before, "after": after, "where": where}
        )
    return items


@require_POST
@login_required
def transcript_replace_all(request, study_slug, pk):
    """``action=preview`` counts and shows every occurrence; ``action=apply`` replaces them."""
    access, transcript, locked = _gate(request, study_slug, pk)
    if locked:
        return locked
    form = ReplaceAllForm(request.POST)
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        edits = corrections.replace_all(
            transcript.text, data["find"], data["replace_with"], data["whole_word"]
        )
        if not edits:
            form.add_error("find", f"“{data['find']}” does not occur in the text.")
        elif request.POST.get("action") == "apply" and data["version"] is None:
            form.add_error(None, "Preview the occurrences first, then confirm.")
        elif request.POST.get("action") == "apply":
            result = apply_service(
                form,
                corrections.transcript_correct,
                actor=request.user,
                transcript=transcript,
                version=data["version"],
                edits=edits,
                reason=data["reason"],
            )
            if result is not None:
                n = len(edits)
                _saved_message(request, result, f"Replaced {n} occurrence{'s' if n != 1 else ''}.")
                return _after_write(request, access, transcript, focus="replace")
        else:
            preview = {"items": _preview(transcript, edits), "data": data}
    visible = _visible(request, access, transcript)
    context = _context(
        access, transcript, visible, replace_form=form, preview=preview, focus="replace"
    )
    if request.htmx:
        return render(request, TEMPLATE + "#replace", context | {"replace_alone": True})
    return _page(request, access, transcript, replace_form=form, preview=preview, focus="replace")


urlpatterns = [
    path("transcripts/<int:pk>/correct/", transcript_correct, name="transcript_correct"),
    path(
        "transcripts/<int:pk>/correct/turn/",
        transcript_correct_turn,
        name="transcript_correct_turn",
    ),
    path(
        "transcripts/<int:pk>/correct/replace/",
        transcript_replace_all,
        name="transcript_replace_all",
    ),
]
