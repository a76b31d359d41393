"""The demo codebook: deductive codes from the guide and the dimensions, the inductive codes the
demo coders "found" in the interviews (each created by its coder while coding the interview it
was first seen in) and the two codes the lead redefined as the analysis went on."""

from coding.models import Code, CodeKind, CodeOrigin
from coding.services.codebook import code_create, code_update

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
        "Organisational motivation",
        "Why an organisation invests in developing models in the open.",
        "Reasons given for the organisation: ecosystem, reputation, hiring, outside testing, "
        "citations.",
        8,
        [],
    ),
    (
        "Decision making",
        "How decisions are taken in the project and who has a say.",
        "Roles, committees, votes, maintainers' authority.",
        9,
        ["non-technical"],
    ),
    (
        "Licensing and responsible use",
        "How licences and use policies shape what may be used, released or built on.",
        "Licence terms of models or data, acceptable-use policies, naming requirements.",
        11,
        ["non-technical"],
    ),
]

# Inductive codes by the interview they were first seen in and the coder who created them
# ("a": the primary coder, "b": the second). The other coder, still coding that interview
# blind, cannot see a new code, so its first interview always holds a disagreement over it.
# (interview, coder, name, definition, when to use, dimension values)
FOUND = [
    (
        "I1",
        "a",
        "Compute as a gate",
        "Access to training compute decides who can show that a contribution helps.",
        "Only when compute access (not skills or time) is what blocks or delays someone.",
        ["challenge", "compute"],
    ),
    (
        "I1",
        "a",
        "Seeing one's language in the model",
        "Contributors are rewarded by the model working in their own language.",
        "Pride or motivation tied to a language or community being served.",
        ["on-ramp"],
    ),
    (
        "I2",
        "a",
        "Support expectations after release",
        "Users expect the releasing team to support what they built on the model.",
        "Requests for help with third-party fine-tunes or deployments.",
        ["post-release", "challenge"],
    ),
    (
        "I3",
        "a",
        "Waiting without feedback",
        "Contributors hear nothing, for a long time, about whether, when or why their "
        "contribution was reviewed or used.",
        "Silence or long waits after a contribution, as the participant lived or saw it.",
        ["non-technical", "challenge"],
    ),
    (
        "I3",
        "a",
        "Regular community calls",
        "Recurring open calls where contributors meet the team, learn and are drawn in.",
        "Weekly, monthly or quarterly calls open to contributors; not one-off events such as "
        "sprints or hackathons.",
        ["non-technical", "on-ramp"],
    ),
    (
        "I4",
        "b",
        "Dependence on the base model's developer",
        "Builders of derivative models depend on the base model's developer: its release "
        "schedule, its changes, its plans.",
        "Redoing work for a new base version, not knowing what comes next. Licence terms go "
        "under “Licensing and responsible use”.",
        ["post-training", "model", "challenge"],
    ),
    (
        "I5",
        "a",
        "Guarded training recipe",
        "An organisation opens the weights but keeps its training data and recipe closed.",
        "The data mix, the training recipe or methods described as secret or not shareable.",
        ["pre-training", "model", "challenge"],
    ),
    (
        "I6",
        "b",
        "Evaluation contributions",
        "Outside contributors add evaluation tasks, benchmarks or results to a shared suite or "
        "leaderboard.",
        "Writing, reviewing or submitting evaluation tasks or results; not internal red-teaming.",
        ["post-release", "evaluation"],
    ),
    (
        "I7",
        "a",
        "Time-zone exclusion",
        "The meetings where things are decided fall at hours when contributors in other "
        "regions cannot attend.",
        "Time zones named as keeping someone out of calls or decisions.",
        ["non-technical", "challenge"],
    ),
]

# Definitions the lead sharpened while an interview was being coded (the codebook's versions
# show when a code's meaning stopped changing):
# (interview, code, definition, when to use, when not to use)
REDEFINED = [
    (
        "I2",  # as agreed at the debriefing after I1
        "Barrier to contribution",
        "A social or process obstacle that keeps people from contributing or makes them leave.",
        "Waiting, unclear processes, meetings or reviews that outsiders cannot join, the cost of "
        "time.",
        "Missing training compute alone: that is “Compute as a gate”.",
    ),
    (
        "I5",  # a company's release council did not fit the community-project wording
        "Decision making",
        "How decisions are taken in the project, or in the organisation behind it, and who "
        "has a say.",
        "Roles, committees, votes, maintainers' authority, and an organisation's internal "
        "sign-off on what may be released.",
        "What a licence allows users to do: that is “Licensing and responsible use”.",
    ),
]


def seed(*, study, admin) -> None:
    """Idempotent: adds the deductive codes that are missing (the inductive ones are created as
    their interviews are coded, ``create_found``)."""
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


def create_found(*, study, transcript, coders: dict, only: str, side: str = "") -> None:
    """Create, as the coder who found them, the inductive codes first seen in interview
    ``only`` (by coder ``side`` only, if given) that the codebook does not have yet."""
    existing = {
        name.lower() for name in Code.objects.filter(study=study).values_list("name", flat=True)
    }
    values = {v.label: v for d in study.dimensions.all() for v in d.values.all()}
    for interview, found_by, name, definition, when, labels in FOUND:
        if interview != only or (side and found_by != side) or name.lower() in existing:
            continue
        code_create(
            actor=coders[found_by],
            study=study,
            name=name,
            definition=definition,
            when_to_use=when,
            origin=CodeOrigin.INDUCTIVE,
            first_seen_transcript=transcript,
            dimension_values=[values[label] for label in labels if label in values],
            note="created while coding",  # as the coding page writes it
        )


def redefine(*, study, lead, only: str, transcript=None) -> None:
    """The lead's redefinitions made while interview ``only`` (``transcript``) was coded
    (none if the code already reads so); saturation counts them on that interview."""
    for interview, name, definition, when, when_not in REDEFINED:
        code = Code.objects.filter(study=study, name=name).first()
        if interview != only or code is None or code.definition == definition:
            continue
        code_update(
            actor=lead,
            code=code,
            version=code.version,
            name=code.name,
            definition=definition,
            when_to_use=when,
            when_not_to_use=when_not,
            example=code.example,
            colour=code.colour,
            parent=code.parent,
            guide_questions=list(code.guide_questions.all()),
            dimension_values=list(code.dimension_values.all()),
            during=transcript,
        )
