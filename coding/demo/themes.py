"""The demo's theme structure: categories per research question, themes written as claims with
their dimension values, and the codes in each. Seeded once the interviews are coded (the team
first sorted codes into themes after I3 and placed each new code after the interview it was
found in; the demo seeds the board as it stood after I9, ``coding.demo.analysis``)."""

from coding.models import Code, CodeKind

# The interview in which each theme first appears in a consensus layer is noted: I1-I2 bring
# most, I3-I6 one each, I7-I9 none (what the saturation curve shows).
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
                "established",
                ["pre-training", "compute", "challenge"],
                ["Compute as a gate", "Barrier to contribution"],
                [],
            ),
            (
                "On-ramp: inviting active fine-tuners turns users into contributors",
                "After release, regular calls with the most active fine-tuners draw them in.",
                "tentative",
                ["post-release", "model", "on-ramp"],
                ["Newcomer on-ramp", "Reuse after release", "Regular community calls"],
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
            (  # first seen in I4
                "Challenge: building on another's base model ties derivatives to its licence "
                "and roadmap",
                "Derivative builders redo their work for each new base version and pass on "
                "licence terms they did not choose.",
                "tentative",
                ["post-training", "model", "challenge"],
                ["Licensing and responsible use", "Dependence on the base model's developer"],
                [],
            ),
            (  # first seen in I5
                "Challenge: companies open the weights but keep the training recipe closed",
                "The data mix and the recipe stay secret, so outsiders can reuse a model but "
                "not take part in making it.",
                "tentative",
                ["pre-training", "model", "challenge"],
                ["Guarded training recipe"],
                [],
            ),
            (  # first seen in I6
                "On-ramp: writing evaluation tasks is a first contribution that needs no GPU",
                "Evaluation suites and leaderboards take tasks and results from anyone, which "
                "makes evaluation an entry point after release.",
                "tentative",
                ["post-release", "evaluation", "on-ramp"],
                ["Evaluation contributions"],
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
                "established",
                ["on-ramp"],
                ["Seeing one's language in the model", "Personal motivation"],
                [],
            ),
            (  # first seen in I2
                "Organisations open their models to be tested, found and joined",
                "An open release buys an organisation outside testing, customers, citations "
                "and people who want to work there.",
                "established",
                [],
                ["Organisational motivation"],
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
            (  # first seen in I3
                "Challenge: reviews and decisions happen out of contributors' sight",
                "Contributors wait without feedback, and the meetings that decide fall at "
                "hours or in rooms they cannot reach.",
                "established",
                ["non-technical", "challenge"],
                ["Waiting without feedback", "Time-zone exclusion"],
                [],
            ),
        ],
    ),
]


def seed_themes(*, study, lead) -> None:
    """Idempotent: arranges the theme structure only while the study has no theme or category
    (the interviews' analysis arranges it after I9; this is for a study whose interviews were
    coded by an earlier demo)."""
    if not Code.objects.filter(study=study).exclude(kind=CodeKind.CODE).exists():
        arrange(study=study, lead=lead)


def arrange(*, study, lead) -> None:
    """The lead's arrangement at a debriefing: every theme (and its category) that has a code
    in the codebook by now is created if missing, and each of its codes with no place yet is
    moved into it. What already has a place stays where it is."""
    from coding.services import themes as theme_services

    existing = {code.name: code for code in Code.objects.filter(study=study)}
    rqs = {rq.label: rq for rq in study.research_questions.all()}
    values = {v.label: v for d in study.dimensions.all() for v in d.values.all()}
    for category_name, rq_labels, themes in THEMES:
        for claim, description, status, labels, members, further in themes:
            if not any(name in existing for name in members):
                continue
            category = existing.get(category_name)
            if category is None:
                category = existing[category_name] = theme_services.theme_create(
                    actor=lead,
                    study=study,
                    kind=CodeKind.CATEGORY,
                    name=category_name,
                    research_questions=[rqs[label] for label in rq_labels if label in rqs],
                )
            theme = existing.get(claim)
            if theme is None:
                theme = existing[claim] = theme_services.theme_create(
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
                code = Code.objects.filter(study=study, name=name, parent=None).first()
                if code is not None:
                    theme_services.board_move(
                        actor=lead, code=code, version=code.version, parent=theme
                    )
            for name in further:
                code = Code.objects.filter(study=study, name=name).first()
                if code is not None and not code.also_in.exists():
                    theme_services.code_also_in_set(
                        actor=lead, code=code, version=code.version, themes=[theme]
                    )
