from contextlib import contextmanager
from unittest import mock

import factory
import guardian.managers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models.signals import post_migrate

from workbench import services
from workbench.models import Dimension, DimensionValue, GuideQuestion, ResearchQuestion, Study

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


# django-guardian looks each permission up again (and then its content type) for every
# permission it grants: 18 of the ~65 queries of giving someone a role. Fixtures build
# through the real services, with those lookups answered from memory; the code under test
# runs guardian unchanged. Migrations (and the flush after a transaction=True test) create
# the permission rows anew, so the memory is cleared then.
_permissions: dict[tuple[int, str], Permission] = {}
post_migrate.connect(lambda **kwargs: _permissions.clear(), weak=False)
_ensure_permission = guardian.managers._ensure_permission


def _remembered_permission(perm, ctype):
    if not isinstance(perm, str):
        return _ensure_permission(perm, ctype)
    key = (ctype.pk, perm)
    if key not in _permissions:
        _permissions[key] = Permission.objects.select_related("content_type").get(
            content_type=ctype, codename=perm
        )
    return _permissions[key]


@contextmanager
def permissions_remembered():
    """While fixtures grant roles: guardian's permission lookups come from memory."""
    with mock.patch.object(guardian.managers, "_ensure_permission", _remembered_permission):
        yield


def give_roles(study, user, *roles, actor=None):
    actor = actor or study.created_by
    with permissions_remembered():
        services.member_set_roles(actor=actor, study=study, user=user, roles=set(roles))


def create_study(actor, name):
    """A study made through ``services.study_create`` (its creator becomes its admin)."""
    with permissions_remembered():
        return services.study_create(actor=actor, name=name)


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

    from transcripts import services as transcript_services
    from transcripts.models import ConsentUse

    actor = actor or study.created_by
    participant = transcript_services.participant_create(
        actor=actor, study=study, code=code, case=case, **kwargs
    )
    transcript_services.consent_record(
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
    from transcripts import importing
    from transcripts import services as transcript_services

    actor = actor or study.created_by
    data = text.encode("utf-8")
    [candidate], rejected = importing.examine([(filename, data)], participant)
    return transcript_services.transcript_import(
        actor=actor,
        study=study,
        participant=participant,
        parsed=candidate.parsed,
        filename=filename,
        original_sha256=candidate.sha256,
        original_size=len(data),
        speaker_roles=roles or candidate.roles,
    )
