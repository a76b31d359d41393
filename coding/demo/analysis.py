"""The demo's analysis as it happened, interview by interview and in interview order: the lead
assigns both demo coders (independent mode); the primary coder codes, creating the codes found
in that interview, the lead sharpens a definition where one was found wanting, the second coder
codes; both submit; the reviewer compares the layers and settles every disagreement with a
rationale. Everything goes through the services, as it would through the pages, so the audit
trail and the codebook's versions tell the same story.

An interview that already has an assignment is left alone, so seeding again changes nothing;
so is one whose transcript an earlier demo imported with other words.
"""

from coding.demo import notes, saturation, themes
from coding.demo.codebook import create_found, redefine
from coding.demo.coding_plan import C
from coding.demo.interviews import PLANS, RECONCILED
from coding.models import Assignment, Code, LayerRole
from coding.services.assignments import assignment_set, layer_submit
from coding.services.codings import coding_create
from coding.services.reconciliation import disagreement_resolve, reconciliation_start
from transcripts.selectors.consent import allows


def locate(text: str, words: str, where: str) -> tuple[int, int]:
    """The span of ``words``, which must occur exactly once in ``text``."""
    start = text.find(words)
    if start < 0 or text.find(words, start + 1) >= 0:
        raise ValueError(f"Demo {where}: the words must occur once: {words!r}")
    return start, start + len(words)


def span(text: str, spec: C, side: str, where: str) -> tuple[int, int]:
    """Where ``side`` coded ``spec``. The second coder draws the same span without its last
    full stop or comma now and then: a boundary difference within the tolerance, as in real
    coding, which reconciliation counts as agreement."""
    words = spec.b_words if side == "b" and spec.b_words else spec.words
    start, end = locate(text, words, where)
    if side == "b" and not spec.b_words and words[-1] in ".," and len(words) > 40:
        end -= 1
    return start, end


def seed_analysis(*, study, lead, reviewer, coders) -> None:
    """Idempotent: codes, reconciles and annotates each demo interview not yet assigned."""
    who = dict(zip("ab", coders, strict=True))
    for interview, plan in PLANS.items():
        transcript = study.transcripts.filter(participant__code=interview).first()
        if transcript is None:
            continue
        if (
            Assignment.objects.filter(transcript=transcript).exists()
            or not allows(transcript, "analyse")
            or not _fits(plan, transcript.text)
        ):
            # Later interviews use the codes found in this one, whatever became of it.
            create_found(study=study, transcript=transcript, coders=who, only=interview)
            continue
        people = {"lead": lead, "reviewer": reviewer, "coders": coders}
        _code(interview, plan, transcript=transcript, study=study, **people)
        if interview not in RECONCILED:
            continue
        for layer in transcript.layers.order_by("role"):
            layer_submit(actor=layer.coder, layer=layer)
        notes.after_submitted(interview=interview, study=study, **people)
        _reconcile(interview, plan, transcript=transcript, study=study, reviewer=reviewer)
        notes.after_reconciled(interview=interview, study=study, **people)
        if interview in ("I3", "I6") or interview == RECONCILED[-1]:
            # The board as the team left it at each debriefing: themes for the codes found
            # so far (the saturation curve counts themes, so they exist when it is read).
            themes.arrange(study=study, lead=lead)
        saturation.decide(interview=interview, study=study, lead=lead)


def _fits(plan, text: str) -> bool:
    """Does the transcript hold every passage the plan codes? Not if it was imported from an
    older demo file (a database seeded by an earlier demo): then it is left as it is."""
    return all(
        text.count(words) == 1
        for spec in plan
        for words in (spec.words, spec.b_words, spec.edit[1])
        if words
    )


def _code(interview, plan, *, transcript, study, lead, reviewer, coders) -> None:
    primary, second = coders
    assignment_set(
        actor=lead, transcript=transcript, primary=primary, second=second, mode="independent"
    )
    layers = {layer.role: layer for layer in transcript.layers.all()}
    who = {"a": primary, "b": second}
    for side, role in (("a", LayerRole.PRIMARY), ("b", LayerRole.SECOND)):
        create_found(study=study, transcript=transcript, coders=who, only=interview, side=side)
        codes = {code.name: code for code in Code.objects.filter(study=study)}
        for spec in plan:
            if side not in spec.by:
                continue
            start, end = span(transcript.text, spec, side, interview)
            coding_create(
                actor=who[side], layer=layers[role], code=codes[spec.code], start=start, end=end
            )
        if side == "a":
            notes.while_coding(interview=interview, study=study, coders=coders)
            redefine(study=study, lead=lead, only=interview, transcript=transcript)


def _starts(text: str, spec: C, where: str) -> set[tuple[str, int]]:
    return {(spec.code, span(text, spec, side, where)[0]) for side in spec.by}


def _reconcile(interview, plan, *, transcript, study, reviewer) -> None:
    """Start the reconciliation and decide each disagreement as its plan says: a disagreement
    belongs to the planned decision whose coding (code and start) it holds."""
    text = transcript.text
    deciding = [spec for spec in plan if spec.decide]
    starts = {spec: _starts(text, spec, interview) for spec in deciding}
    codes = {code.name: code for code in Code.objects.filter(study=study)}
    reconciliation = reconciliation_start(actor=reviewer, transcript=transcript)
    decided = set()
    for d in reconciliation.disagreements.order_by("number"):
        held = {(s["code_name"], s["start"]) for s in d.a_codings + d.b_codings}
        matches = [spec for spec in deciding if starts[spec] & held]
        if len(matches) != 1:
            raise ValueError(
                f"Demo {interview}: disagreement {d.number} ({d.kind}: "
                f"{text[d.start : d.end]!r}) has {len(matches)} planned decisions, not one."
            )
        spec = matches[0]
        edit = {}
        if spec.decide == "edit":
            code_name, words = spec.edit
            start, end = locate(text, words, interview)
            edit = {"code": codes[code_name], "start": start, "end": end}
        disagreement_resolve(
            actor=reviewer,
            disagreement=d,
            version=d.version,
            decision=spec.decide,
            rationale=spec.why,
            **edit,
        )
        decided.add(spec)
    missing = [spec.words for spec in deciding if spec not in decided]
    if missing:
        raise ValueError(f"Demo {interview}: planned decisions without a disagreement: {missing}")
