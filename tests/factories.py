import factory
from django.contrib.auth import get_user_model

from workbench.models import Dimension, DimensionValue, GuideQuestion, ResearchQuestion, Study
from workbench.services import members as member_services
from workbench.services import studies as study_services

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def give_roles(study, user, *roles, actor=None):
    actor = actor or study.created_by
    member_services.member_set_roles(actor=actor, study=study, user=user, roles=set(roles))


def create_study(actor, name):
    """A study made through ``study_create`` (its creator becomes its admin)."""
    return study_services.study_create(actor=actor, name=name)


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    name = factory.Sequence(lambda n: f"Study {n}")
    slug = factory.Sequence(lambda n: f"study-{n}")


class ResearchQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResearchQuestion

    study = factory.SubFactory(StudyFactory)
    label = factory.Sequence(lambda n: f"RQ{n + 1}")
    text = factory.Faker("sentence")
    position = factory.Sequence(lambda n: n + 1)


class GuideQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuideQuestion

    study = factory.SubFactory(StudyFactory)
    text = factory.Faker("sentence")
    position = factory.Sequence(lambda n: n + 1)


class DimensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dimension

    study = factory.SubFactory(StudyFactory)
    name = factory.Sequence(lambda n: f"Dimension {n}")
    position = factory.Sequence(lambda n: n + 1)


class DimensionValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DimensionValue

    dimension = factory.SubFactory(DimensionFactory)
    label = factory.Sequence(lambda n: f"value {n}")
    position = factory.Sequence(lambda n: n + 1)


# The role fixtures' people (tests/conftest.py) and the study they work in.
USERNAMES = {
    "admin": "alice",
    "lead": "lena",
    "coder": "chen",
    "reviewer": "rosa",
    "coder2": "kofi",
    "outsider": "oscar",
}
STUDY_NAME = "Open LLM interviews"


def study_member(study, role):
    """The role fixtures' person for ``role`` (lead, coder or reviewer), holding that role."""
    user = UserFactory(username=USERNAMES[role])
    give_roles(study, user, role)
    return user


def outsider_user():
    """Has an account and a study of their own, but no role in the role fixtures' study."""
    user = UserFactory(username=USERNAMES["outsider"])
    create_study(user, "Someone else's study")
    return user


def research_design(study):
    """A small research design: two RQs, a guide question, a dimension with two values."""
    rq1 = ResearchQuestionFactory(study=study, label="RQ1", position=1)
    rq2 = ResearchQuestionFactory(study=study, label="RQ2", position=2)
    gq = GuideQuestionFactory(study=study, position=1)
    gq.research_questions.set([rq1])
    dimension = DimensionFactory(study=study, name="Lifecycle stage", position=1)
    value = DimensionValueFactory(dimension=dimension, label="pre-training", position=1)
    DimensionValueFactory(dimension=dimension, label="post-release", position=2)
    return {"rq1": rq1, "rq2": rq2, "gq": gq, "dimension": dimension, "value": value}


def consented_participant(study, code="I1", *, actor=None, uses=None, case=None, **kwargs):
    """A participant whose current consent covers everything (or just ``uses``)."""
    from datetime import date

    from transcripts.models import ConsentUse
    from transcripts.services import consent as consent_services
    from transcripts.services import participants as participant_services

    actor = actor or study.created_by
    participant = participant_services.participant_create(
        actor=actor, study=study, code=code, case=case, **kwargs
    )
    consent_services.consent_record(
        actor=actor,
        participant=participant,
        form_version="v1",
        effective_on=date(2026, 1, 15),
        allowed=set(ConsentUse.values) if uses is None else set(uses),
    )
    return participant


def imported_transcript(
    study, participant, text: str, *, filename="interview.txt", actor=None, roles=None
):
    """Import ``text`` as a plain-text file through the real parser and service."""
    from transcripts.selectors import imports as importing
    from transcripts.services import imports as import_services

    actor = actor or study.created_by
    data = text.encode("utf-8")
    [candidate], rejected = importing.examine([(filename, data)], participant)
    return import_services.transcript_import(
        actor=actor,
        study=study,
        participant=participant,
        parsed=candidate.parsed,
        filename=filename,
        original_sha256=candidate.sha256,
        original_size=len(data),
        speaker_roles=roles or candidate.roles,
    )


def ready_transcript(study, lead, text, *, code="I1"):
    """A consented participant's interview, imported and marked ready for coding."""
    from transcripts.services import transcripts as transcript_services

    transcript = imported_transcript(study, consented_participant(study, code), text)
    return transcript_services.transcript_update(
        actor=lead, transcript=transcript, version=transcript.version, status="ready"
    )


def reconciled_interview(study, lead, coders, codings, *, code="I1", interview_date=None, extra=()):
    """An interview both ``coders`` (primary, second) coded alike and ``lead`` reconciled: its
    consensus holds ``codings`` ((code, phrase) pairs, each phrase in the text once). ``extra``
    (code, phrase) pairs are coded by the primary coder only: open disagreements."""
    from coding.models import CodingMode
    from coding.services import assignments as assignment_services
    from coding.services import codings as coding_services
    from coding.services.reconciliation import reconciliation_start
    from transcripts.services import transcripts as transcript_services

    phrases = [phrase for _, phrase in [*codings, *extra]]
    text = "Interviewer: Tell me about the project.\n\n" + "\n\n".join(
        f"{code}: {phrase}. And more on that." for phrase in phrases
    )
    transcript = ready_transcript(study, lead, text + "\n", code=code)
    if interview_date is not None:
        transcript = transcript_services.transcript_update(
            actor=lead,
            transcript=transcript,
            version=transcript.version,
            interview_date=interview_date,
        )
    assignment_services.assignment_set(
        actor=lead,
        transcript=transcript,
        primary=coders[0],
        second=coders[1],
        mode=CodingMode.INDEPENDENT,
    )
    layers = {layer.role: layer for layer in transcript.layers.all()}
    for role, coder in (("primary", coders[0]), ("second", coders[1])):
        mine = [*codings, *extra] if role == "primary" else list(codings)
        for tag, phrase in mine:
            start = transcript.text.index(phrase)
            coding_services.coding_create(
                actor=coder, layer=layers[role], code=tag, start=start, end=start + len(phrase)
            )
        assignment_services.layer_submit(actor=coder, layer=layers[role])
    reconciliation_start(actor=lead, transcript=transcript)
    return transcript
