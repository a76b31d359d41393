"""A demo codebook for the demo study: deductive codes from its guide and dimensions, and a few
inductive ones that coders "found" in the demo interviews."""

from coding.models import Code, CodeKind, CodeOrigin
from coding.services.codebook import code_create

# name, definition, when to use, guide question number (1-based) or None, dimension values
DEDUCTIVE = [
    (
        "Entry path",
        "How the participant first came to contribute to the project.",
        "The first contact, the first contribution, who invited them.",
        1,
        [],
    ),
    (
        "Data contribution and review",
        "Contributing, checking and documenting training data.",
        "Proposals of datasets, data cards, licence checks, reviews of samples.",
        3,
        ["pre-training", "data"],
    ),
    (
        "Reuse after release",
        "What others build on a released model: fine-tunes, evaluations, tools.",
        "Activity by people outside the releasing team after the weights are public.",
        4,
        ["post-release", "model"],
    ),
    (
        "Newcomer on-ramp",
        "Something that makes it easier for a newcomer to start contributing.",
        "Concrete practices or resources that lowered a barrier.",
        5,
        ["on-ramp"],
    ),
    (
        "Barrier to contribution",
        "Something that keeps people from contributing or makes them leave.",
        "Technical, social or material obstacles named by the participant.",
        6,
        ["challenge"],
    ),
    (
        "Personal motivation",
        "Why the participant personally keeps contributing.",
        "Reasons in the first person: learning, recognition, belonging, mission.",
        7,
        [],
    ),
    (
        "Decision making",
        "How decisions are taken in the project and who has a say.",
        "Roles, committees, votes, maintainers' authority.",
        9,
        ["non-technical"],
    ),
]

INDUCTIVE = [
    (
        "Compute as a gate",
        "Access to training compute decides who can show that a contribution helps.",
        "Only when compute access (not skills or time) is what blocks or delays someone.",
        ["challenge", "compute"],
    ),
    (
        "Seeing one's language in the model",
        "Contributors are rewarded by the model working in their own language.",
        "Pride or motivation tied to a language or community being served.",
        ["on-ramp"],
    ),
    (
        "Support expectations after release",
        "Users expect the releasing team to support what they built on the model.",
        "Requests for help with third-party fine-tunes or deployments.",
        ["post-release", "challenge"],
    ),
]


def seed(*, study, admin, coder) -> None:
    """Idempotent: adds the demo codes that are missing."""
    existing = {
        name.lower() for name in Code.objects.filter(study=study).values_list("name", flat=True)
    }
    guide = list(study.guide_questions.all())
    values = {v.label: v for d in study.dimensions.all() for v in d.values.all()}
    for name, definition, when, question, labels in DEDUCTIVE:
        if name.lower() in existing:
            continue
        code_create(
            actor=admin,
            study=study,
            name=name,
            definition=definition,
            when_to_use=when,
            origin=CodeOrigin.DEDUCTIVE,
            kind=CodeKind.CODE,
            guide_questions=[guide[question - 1]] if question and len(guide) >= question else [],
            dimension_values=[values[label] for label in labels if label in values],
        )
    first = study.transcripts.order_by("id").first()
    for name, definition, when, labels in INDUCTIVE:
        if name.lower() in existing:
            continue
        code_create(
            actor=coder,
            study=study,
            name=name,
            definition=definition,
            when_to_use=when,
            origin=CodeOrigin.INDUCTIVE,
            first_seen_transcript=first,
            dimension_values=[values[label] for label in labels if label in values],
        )


# Demo codings by phrase: (transcript title, code name, phrase, by primary?, by second?)
CODINGS = [
    (
        "Interview with I1",
        "Entry path",
        "I filed an issue about a broken deduplication script",
        1,
        1,
    ),
    (
        "Interview with I1",
        "Data contribution and review",
        "Two reviewers from the group check the licence and a random sample",
        1,
        1,
    ),
    (
        "Interview with I1",
        "Compute as a gate",
        "nobody outside the sponsored cluster can run a training ablation",
        1,
        0,
    ),
    ("Interview with I1", "Barrier to contribution", "Compute, first.", 0, 1),
    (
        "Interview with I1",
        "Seeing one's language in the model",
        "the model could finally answer simple questions in Yoruba",
        1,
        1,
    ),
    (
        "Interview with I1",
        "Decision making",
        "The working group proposes, the steering committee signs off.",
        1,
        1,
    ),
    (
        "Interview with I2",
        "Reuse after release",
        "there were forty fine-tuned variants on the hub",
        1,
        1,
    ),
    (
        "Interview with I2",
        "Support expectations after release",
        "We had not planned for people asking us to support their fine-tunes.",
        1,
        0,
    ),
    (
        "Interview with I2",
        "Newcomer on-ramp",
        "we started inviting the most active fine-tuners to a monthly call",
        1,
        1,
    ),
    (
        "Interview with I2",
        "Personal motivation",
        "the community finds failure modes faster than our own red team",
        0,
        1,
    ),
]


# Both demo coders have finished I1 (so agreement has figures to show); I2 is still open.
SUBMITTED = ("Interview with I1",)


def seed_coding(*, study, lead, primary, second) -> None:
    """Assign two demo transcripts to the two demo coders (independent mode) and code parts
    of them, with some disagreement, so that agreement has something to measure."""
    from coding.models import Assignment
    from coding.services.assignments import assignment_set, layer_submit
    from coding.services.codings import coding_create

    codes = {code.name: code for code in Code.objects.filter(study=study)}
    for title in ("Interview with I1", "Interview with I2"):
        transcript = study.transcripts.filter(title=title).first()
        if transcript is None or Assignment.objects.filter(transcript=transcript).exists():
            continue
        assignment_set(
            actor=lead, transcript=transcript, primary=primary, second=second, mode="independent"
        )
        layers = {layer.role: layer for layer in transcript.layers.all()}
        for t_title, code_name, phrase, by_primary, by_second in CODINGS:
            start = transcript.text.find(phrase) if t_title == title else -1
            if start < 0 or code_name not in codes:
                continue
            for role, user, wanted in (
                ("primary", primary, by_primary),
                ("second", second, by_second),
            ):
                if wanted:
                    # The second coder draws slightly different boundaries now and then.
                    end = start + len(phrase) - (3 if role == "second" and len(phrase) > 40 else 0)
                    coding_create(
                        actor=user, layer=layers[role], code=codes[code_name], start=start, end=end
                    )
        if title in SUBMITTED:
            for role, user in (("primary", primary), ("second", second)):
                layer_submit(actor=user, layer=layers[role])


def seed_reconciliation(*, study, reviewer) -> None:
    """The reviewer has compared both layers of I1: the codings both coders agreed on are the
    consensus (so themes, quotes and matrices have something to count), and the disagreements
    wait for the reviewer's decisions."""
    from coding.models import Reconciliation
    from coding.services.reconciliation import reconciliation_start

    i1 = study.transcripts.filter(title="Interview with I1").first()
    if i1 is None or Reconciliation.objects.filter(transcript=i1).exists():
        return
    reconciliation_start(actor=reviewer, transcript=i1)


def seed_notes(*, study, lead, reviewer, coders) -> None:
    """A first agreement round, a debriefing note and a memo, as after the first interview."""
    import datetime

    from coding.models import AgreementRound, RoundKind
    from coding.services import agreement as agreement_services
    from coding.services import notes as notes_services

    if AgreementRound.objects.filter(study=study).exists():
        return
    agreement_services.agreement_round_record(
        actor=lead,
        study=study,
        label="After I1, before reconciliation",
        kind=RoundKind.BEFORE_RECONCILIATION,
    )
    codes = {code.name: code for code in Code.objects.filter(study=study)}
    i1 = study.transcripts.filter(title="Interview with I1").first()
    notes_services.debrief_note_create(
        actor=lead,
        study=study,
        title="Debriefing after I1",
        held_on=datetime.date(2026, 2, 12),
        attendees=[lead, reviewer, *coders],
        body="We compared both codings of I1. Most spans matched; the two coders read "
        "“Compute, first.” differently.",
        decisions="“Barrier to contribution” covers social and process barriers; missing "
        "compute goes under “Compute as a gate”.",
        transcripts=[i1] if i1 else [],
        codes=[
            c
            for name, c in codes.items()
            if name in {"Barrier to contribution", "Compute as a gate"}
        ],
    )
    if "Compute as a gate" in codes:
        notes_services.memo_create(
            actor=coders[0],
            study=study,
            title="Compute shapes who can take part",
            body="In I1 the lack of GPUs decides who can run an ablation, and so whose data "
            "gets credited. Watch for the same pattern in later interviews.",
            code=codes["Compute as a gate"],
            transcripts=[i1] if i1 else [],
        )


# A first theme structure, as after the joint discussions of the first interviews: categories
# per research question, themes written as claims with their dimension values, their codes.
# (category, RQ labels, [(theme claim, description, status, dimension values, codes,
#   further codes)])
THEMES = [
    (
        "Participation across the model lifecycle",
        ["RQ1"],
        [
            (
                "On-ramp: reviewing data in small groups lets newcomers contribute early",
                "Data review in working groups is where newcomers make a first useful "
                "contribution before any training run.",
                "established",
                ["pre-training", "data", "on-ramp"],
                ["Data contribution and review"],
                [],
            ),
            (
                "Challenge: access to training compute decides whose contribution counts",
                "Without compute, contributors cannot show that their data or method helps.",
                "tentative",
                ["pre-training", "compute", "challenge"],
                ["Compute as a gate", "Barrier to contribution"],
                [],
            ),
            (
                "On-ramp: inviting active fine-tuners turns users into contributors",
                "After release, regular calls with the most active fine-tuners draw them in.",
                "tentative",
                ["post-release", "model", "on-ramp"],
                ["Newcomer on-ramp", "Reuse after release"],
                [],
            ),
            (
                "Challenge: users expect the releasing team to support what they build",
                "Support requests for third-party fine-tunes arrive unplanned after release.",
                "tentative",
                ["post-release", "challenge"],
                ["Support expectations after release"],
                [],
            ),
        ],
    ),
    (
        "Why people and organisations take part",
        ["RQ2"],
        [
            (
                "Seeing the model serve one's own language keeps contributors engaged",
                "Personal motivation tied to a language or community the model serves.",
                "tentative",
                ["on-ramp"],
                ["Seeing one's language in the model", "Personal motivation"],
                [],
            ),
        ],
    ),
    (
        "Organising and governing the work",
        ["RQ3"],
        [
            (
                "Working groups propose, a steering committee decides",
                "Decisions are prepared in open working groups and signed off centrally.",
                "tentative",
                ["non-technical"],
                ["Decision making"],
                ["Data contribution and review"],
            ),
        ],
    ),
]


def seed_themes(*, study, lead) -> None:
    """Idempotent: seeds the theme structure only while the study has no theme or category."""
    from coding.services import themes as theme_services

    if Code.objects.filter(study=study).exclude(kind=CodeKind.CODE).exists():
        return
    codes = {code.name: code for code in Code.objects.filter(study=study, kind=CodeKind.CODE)}
    rqs = {rq.label: rq for rq in study.research_questions.all()}
    values = {v.label: v for d in study.dimensions.all() for v in d.values.all()}
    for category_name, rq_labels, themes in THEMES:
        category = theme_services.theme_create(
            actor=lead,
            study=study,
            kind=CodeKind.CATEGORY,
            name=category_name,
            research_questions=[rqs[label] for label in rq_labels if label in rqs],
        )
        for claim, description, status, labels, members, further in themes:
            theme = theme_services.theme_create(
                actor=lead,
                study=study,
                kind=CodeKind.THEME,
                name=claim,
                definition=description,
                parent=category,
                dimension_values=[values[label] for label in labels if label in values],
                theme_status=status,
            )
            for name in members:
                if name in codes:
                    code = Code.objects.get(pk=codes[name].pk)
                    theme_services.board_move(
                        actor=lead, code=code, version=code.version, parent=theme
                    )
            for name in further:
                if name in codes:
                    code = Code.objects.get(pk=codes[name].pk)
                    theme_services.code_also_in_set(
                        actor=lead, code=code, version=code.version, themes=[theme]
                    )
