"""Demo cases, participants, consent and ten short interviews written for the demo study.

The interviews are invented (no real person's words) but follow the reference study's topic:
collaboration in open LLM projects. They were "held" every two weeks from February to June 2026
(fixed dates, so that the saturation curve reads the same whenever the demo is seeded); the
sample widens as the reference study's did, from the community and the lab to a start-up, a large
company and an independent fine-tuner. One participant (I11) has not consented yet.
"""

from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

from transcripts.models import AttributeKind, AttributeTarget, SpeakerRole
from transcripts.selectors import imports as importing
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from transcripts.services import consent as consent_services
from transcripts.services import imports as import_services
from transcripts.services import participants as participant_services
from transcripts.services import transcripts as transcript_services

HERE = Path(__file__).resolve().parent

ORGANISATION_TYPES = [
    "Large enterprise",
    "Small or medium-sized enterprise",
    "Research institute",
    "Non-profit / grassroots",
    "Individual",
]
PLATFORMS = ["Hugging Face Hub", "GitHub", "Discord", "Slack", "Mailing list"]

CASE_ATTRIBUTES = [
    ("Organisation type", AttributeKind.CHOICE, ORGANISATION_TYPES),
    ("Region", AttributeKind.TEXT, []),
    ("Base models", AttributeKind.TEXT, []),
    ("Community platforms", AttributeKind.MULTI, PLATFORMS),
    ("First release", AttributeKind.DATE, []),
]
PARTICIPANT_ATTRIBUTES = [
    ("Role in the project", AttributeKind.TEXT, []),
    ("Years involved", AttributeKind.NUMBER, []),
]

CASES = [
    (
        "Community multilingual model",
        "A volunteer collective training a model for under-served languages.",
        {
            "Organisation type": "Non-profit / grassroots",
            "Region": "Europe and West Africa",
            "Base models": "own architecture",
            "Community platforms": ["Hugging Face Hub", "GitHub", "Discord"],
            "First release": "2023-04-18",
        },
    ),
    (
        "University lab model",
        "An academic lab releasing base and chat models.",
        {
            "Organisation type": "Research institute",
            "Region": "North America",
            "Base models": "own architecture",
            "Community platforms": ["Hugging Face Hub", "GitHub", "Slack"],
            "First release": "2022-11-02",
        },
    ),
    (
        "Start-up instruction model",
        "A small company fine-tuning open base models for European languages.",
        {
            "Organisation type": "Small or medium-sized enterprise",
            "Region": "Central Europe",
            "Base models": "Llama family",
            "Community platforms": ["Hugging Face Hub", "Discord"],
            "First release": "2024-02-20",
        },
    ),
    (
        "Enterprise open-weight model",
        "A large company's family of open-weight models, with a community programme.",
        {
            "Organisation type": "Large enterprise",
            "Region": "North America and Europe",
            "Base models": "own architecture",
            "Community platforms": ["Hugging Face Hub", "GitHub", "Discord"],
            "First release": "2023-07-18",
        },
    ),
    (
        "Independent fine-tuner",
        "One person publishing fine-tuned and quantised variants of open base models.",
        {
            "Organisation type": "Individual",
            "Region": "South America",
            "Base models": "whichever open base is best that month",
            "Community platforms": ["Hugging Face Hub", "Discord"],
            "First release": "2024-09-01",
        },
    ),
]

# What most participants allowed (I2 and I6 allowed more, I3 and I8 no quotation, I5 no
# re-contact); every interviewed participant allowed analysis, which coding needs.
USUAL = {"record", "transcribe", "analyse", "quote", "recontact"}

# code, case, attributes, consent uses (None = no consent yet), interview (file, language,
# minutes, date; None = not interviewed yet). Consent was given a week before each interview.
PARTICIPANTS = [
    (
        "I1",
        "Community multilingual model",
        {"Role in the project": "data working group lead", "Years involved": 2},
        USUAL,
        ("I1-community-model.txt", "en", 30, date(2026, 2, 3)),
    ),
    (
        "I2",
        "University lab model",
        {"Role in the project": "research engineer", "Years involved": 3},
        USUAL | {"attribute", "archive"},
        ("I2-lab-release.vtt", "en", 45, date(2026, 2, 17)),
    ),
    (
        "I3",
        "Community multilingual model",
        {"Role in the project": "translator and reviewer", "Years involved": 1},
        USUAL - {"quote"},
        ("I3-wywiad.txt", "pl", 60, date(2026, 3, 3)),
    ),
    (
        "I4",
        "Start-up instruction model",
        {"Role in the project": "co-founder", "Years involved": 2.5},
        USUAL,
        ("I4-startup-founder.txt", "en", 40, date(2026, 3, 17)),
    ),
    (
        "I5",
        "Enterprise open-weight model",
        {"Role in the project": "open-source programme manager", "Years involved": 2},
        USUAL - {"recontact"},
        ("I5-enterprise-programme.txt", "en", 35, date(2026, 3, 31)),
    ),
    (
        "I6",
        "University lab model",
        {"Role in the project": "evaluation suite maintainer", "Years involved": 2},
        USUAL | {"attribute", "archive"},
        ("I6-lab-evaluation.txt", "en", 50, date(2026, 4, 14)),
    ),
    (
        "I7",
        "Community multilingual model",
        {"Role in the project": "infrastructure volunteer", "Years involved": 1.5},
        USUAL,
        ("I7-community-infrastructure.txt", "en", 40, date(2026, 4, 28)),
    ),
    (
        "I8",
        "Independent fine-tuner",
        {"Role in the project": "independent fine-tuner", "Years involved": 2},
        USUAL - {"quote"},
        ("I8-independent-finetuner.txt", "en", 30, date(2026, 5, 12)),
    ),
    (
        "I9",
        "Enterprise open-weight model",
        {"Role in the project": "developer advocate", "Years involved": 1},
        USUAL,
        ("I9-enterprise-devrel.txt", "en", 35, date(2026, 5, 26)),
    ),
    (
        "I10",
        "Start-up instruction model",
        {"Role in the project": "community manager", "Years involved": 1},
        USUAL | {"archive"},
        ("I10-startup-community.txt", "en", 30, date(2026, 6, 9)),
    ),
    (
        "I11",
        "Community multilingual model",
        {"Role in the project": "steering committee member", "Years involved": 3},
        None,
        None,
    ),
]


# A name left in a demo transcript, with its replacement listed (after the transcript was marked
# ready) but not yet applied, so that the pseudonymisation preview has something to show and the
# transcript list shows how a ready transcript holding a newly listed name is flagged.
PSEUDONYMS = [("Hannah Okafor", "[P-LEAD]"), ("Okafor", "[P-LEAD]")]


def seed(*, study, admin, lead, interviewers=()) -> None:
    """Idempotent: adds whatever of the demo data is missing."""
    from transcripts.services.pseudonyms import pseudonym_rule_create

    attributes = {a.name: a for a in study.attributes.all()}
    for target, specs in (
        (AttributeTarget.CASE, CASE_ATTRIBUTES),
        (AttributeTarget.PARTICIPANT, PARTICIPANT_ATTRIBUTES),
    ):
        for name, kind, options in specs:
            if name not in attributes:
                attributes[name] = attribute_services.attribute_create(
                    actor=lead, study=study, target=target, name=name, kind=kind, options=options
                )

    def by_id(values: dict) -> dict:
        return {str(attributes[name].pk): value for name, value in values.items()}

    cases = {case.name: case for case in study.cases.all()}
    for name, description, values in CASES:
        if name not in cases:
            cases[name] = case_services.case_create(
                actor=lead,
                study=study,
                name=name,
                description=description,
                attributes=by_id(values),
            )

    today = timezone.localdate()
    for code, case_name, values, uses, interview in PARTICIPANTS:
        participant = study.participants.filter(code=code).first()
        if participant is None:
            participant = participant_services.participant_create(
                actor=lead,
                study=study,
                code=code,
                case=cases[case_name],
                attributes=by_id(values),
                contact_email=f"{code.lower()}@participants.demo.test",
            )
        if uses is not None and not participant.consent_records.exists():
            # Never in the future (the service refuses that), should the clock be set back.
            given = interview[3] - timedelta(days=7) if interview else today
            consent_services.consent_record(
                actor=admin,
                participant=participant,
                form_version="v2.1",
                effective_on=min(given, today),
                allowed=uses,
                retain_until=date(today.year + 5, 12, 31),
            )
        if interview is None or participant.transcripts.exists():
            continue
        filename, language, minutes, held_on = interview
        data = (HERE / filename).read_bytes()
        [candidate], _ = importing.examine([(filename, data)], participant)
        roles = {
            label: SpeakerRole.PARTICIPANT if label == code else SpeakerRole.INTERVIEWER
            for label in candidate.parsed.speakers
        }
        transcript = import_services.transcript_import(
            actor=lead,
            study=study,
            participant=participant,
            parsed=candidate.parsed,
            filename=filename,
            original_sha256=candidate.sha256,
            original_size=candidate.size,
            speaker_roles=roles,
            title=f"Interview with {code}",
            interview_date=held_on,
            interviewers=list(interviewers),
            mode="online",
            duration_minutes=minutes,
            language=language,
        )
        transcript_services.transcript_update(
            actor=lead, transcript=transcript, version=transcript.version, status="ready"
        )

    if not study.pseudonym_rules.exists():
        for find, replacement in PSEUDONYMS:
            pseudonym_rule_create(actor=lead, study=study, find=find, replace_with=replacement)
