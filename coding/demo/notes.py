"""What the demo team wrote down along the way: agreement rounds, debriefings, memos and the
tentative synthesis after I6 (as the reference study wrote one after I10, then interviewed
more). Each is written once, at its point in the interview sequence (``coding.demo.analysis``),
and never again if a note of that title exists."""

import datetime

from coding.models import AgreementRound, AnalyticMemo, Code, DebriefNote, NoteKind, RoundKind
from coding.services import agreement as agreement_services
from coding.services import notes as notes_services


def _codes(study, *names) -> list[Code]:
    return list(Code.objects.filter(study=study, name__in=names))


def _transcripts(study, *participants) -> list:
    return list(study.transcripts.filter(participant__code__in=participants))


def _round(study, lead, label: str) -> None:
    if not AgreementRound.objects.filter(study=study, label=label).exists():
        agreement_services.agreement_round_record(
            actor=lead, study=study, label=label, kind=RoundKind.BEFORE_RECONCILIATION
        )


def _note(study, lead, title: str, **fields) -> None:
    if not DebriefNote.objects.filter(study=study, title=title).exists():
        notes_services.debrief_note_create(actor=lead, study=study, title=title, **fields)


def _memo(study, coder, title: str, **fields) -> None:
    if not AnalyticMemo.objects.filter(study=study, title=title).exists():
        notes_services.memo_create(actor=coder, study=study, title=title, **fields)


def after_submitted(*, interview: str, study, lead, reviewer, coders) -> None:
    """Once both layers of ``interview`` are submitted, before the reviewer reconciles it."""
    team = [lead, reviewer, *coders]
    if interview == "I1":
        _round(study, lead, "After I1, before reconciliation")
        _note(
            study,
            lead,
            "Debriefing after I1",
            held_on=datetime.date(2026, 2, 12),
            attendees=team,
            body="We compared both codings of I1. Most spans matched; the two coders read "
            "“Compute, first.” differently.",
            decisions="“Barrier to contribution” covers social and process barriers; missing "
            "compute goes under “Compute as a gate”.",
            transcripts=_transcripts(study, "I1"),
            codes=_codes(study, "Barrier to contribution", "Compute as a gate"),
        )
        _memo(
            study,
            coders[0],
            "Compute shapes who can take part",
            body="In I1 the lack of GPUs decides who can run an ablation, and so whose data "
            "gets credited. Watch for the same pattern in later interviews.",
            code=Code.objects.filter(study=study, name="Compute as a gate").first(),
            transcripts=_transcripts(study, "I1"),
        )
    if interview == "I6":
        _round(study, lead, "I1–I6, before reconciling I6")


def while_coding(*, interview: str, study, coders) -> None:
    """A memo the primary coder wrote while coding ``interview``."""
    if interview == "I5":
        _memo(
            study,
            coders[0],
            "A release council is a decision too",
            body="In I5 a company's release council (research, legal, security) decides what "
            "is opened. “Decision making” was written with community projects in mind; does an "
            "organisation's internal sign-off count? Asked the lead to sharpen the definition.",
            code=Code.objects.filter(study=study, name="Decision making").first(),
            transcripts=_transcripts(study, "I5"),
        )


def after_reconciled(*, interview: str, study, lead, reviewer, coders) -> None:
    """Once ``interview``'s consensus is complete."""
    team = [lead, reviewer, *coders]
    if interview == "I3":
        _note(
            study,
            lead,
            "Debriefing after I3",
            held_on=datetime.date(2026, 3, 10),
            attendees=team,
            body="We sorted the first-level codes of I1–I3 into first themes under the three "
            "research questions and wrote each theme as a claim. I3 brought two new codes, "
            "“Waiting without feedback” and “Regular community calls”; both stay.",
            decisions="“Entry path” stays outside the themes for now: it says how people "
            "arrive, not yet what we found.",
            transcripts=_transcripts(study, "I1", "I2", "I3"),
            codes=_codes(study, "Waiting without feedback", "Regular community calls"),
        )
    if interview == "I6":
        _note(
            study,
            lead,
            "Tentative synthesis after I6",
            kind=NoteKind.SYNTHESIS,
            held_on=datetime.date(2026, 4, 21),
            attendees=team,
            body="Where we stand after six interviews (I1–I6).\n\n"
            "RQ1, the lifecycle: newcomers start where no compute is needed, reviewing data "
            "(I1, I3) or writing evaluation tasks (I6); compute decides whose contribution can "
            "be shown to matter (I1–I4, I6). After a release, reuse comes fast and brings "
            "support requests nobody planned for (I2, I4, I5). Builders of derivatives live on "
            "the base model's licence and roadmap (I4); a company opens weights but keeps its "
            "recipe closed (I5).\n\n"
            "RQ2, motivation: seeing one's own language served (I1, I3, I4); organisations "
            "open models for outside testing, customers, hiring and citations (I2, I4–I6).\n\n"
            "RQ3, governance: working groups propose and a committee or council decides (I1, "
            "I2, I5, I6); reviews and decisions often happen out of contributors' sight (I3, "
            "I6).\n\n"
            "The themes are settling: I3 to I6 added one theme each, and fewer new codes than "
            "I1 and I2. The sample is still mostly European and organisational.",
            decisions="Continue sampling: I7–I9 widen the sample (an infrastructure volunteer "
            "outside Europe, an independent fine-tuner, the company's community side). We stop "
            "once two interviews in a row add no new theme.",
            transcripts=_transcripts(study, "I1", "I2", "I3", "I4", "I5", "I6"),
        )
