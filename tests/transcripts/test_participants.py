import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import consented_participant
from transcripts.models import AttributeKind, AttributeTarget, Participant
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from transcripts.services import participants as participant_services
from workbench.models import AuditEvent


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


@pytest.fixture
def attributes(study, lead):
    return {
        "role": attribute_services.attribute_create(
            actor=lead,
            study=study,
            target=AttributeTarget.PARTICIPANT,
            name="Role",
            kind=AttributeKind.TEXT,
        ),
        "years": attribute_services.attribute_create(
            actor=lead,
            study=study,
            target=AttributeTarget.PARTICIPANT,
            name="Years",
            kind=AttributeKind.NUMBER,
        ),
        "since": attribute_services.attribute_create(
            actor=lead,
            study=study,
            target=AttributeTarget.PARTICIPANT,
            name="Joined",
            kind=AttributeKind.DATE,
        ),
        "langs": attribute_services.attribute_create(
            actor=lead,
            study=study,
            target=AttributeTarget.PARTICIPANT,
            name="Languages",
            kind=AttributeKind.MULTI,
            options=["pl", "yo", "th"],
        ),
    }


class TestParticipants:
    def test_lead_adds_participant_with_typed_attributes(self, client, study, lead, attributes):
        client.force_login(lead)
        a = attributes
        response = client.post(
            url("participant_create", study),
            {
                "code": "I7",
                f"attr_{a['role'].pk}": "maintainer",
                f"attr_{a['years'].pk}": "2.5",
                f"attr_{a['since'].pk}": "2024-05-01",
                f"attr_{a['langs'].pk}": ["yo", "pl"],
                "contact_email": "real.person@example.org",
            },
        )
        participant = Participant.objects.get(code="I7")
        assert response.status_code == 302
        assert participant.attributes == {
            str(a["role"].pk): "maintainer",
            str(a["years"].pk): 2.5,
            str(a["since"].pk): "2024-05-01",
            str(a["langs"].pk): ["pl", "yo"],
        }
        event = AuditEvent.objects.get(verb="participant.create")
        assert event.after["attributes"]["Languages"] == ["pl", "yo"]
        assert "real.person" not in str(event.after)

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("years", "many", "Years: “many” is not a number."),
            ("years", "1e999999999", "Years: “1e999999999” is too large a number."),
            ("since", "2024-13-01", "Joined: “2024-13-01” is not a date"),
            ("langs", ["xx"], "Languages: “xx” is not one of its options."),
        ],
    )
    def test_bad_attribute_values_are_refused_next_to_the_field(
        self, client, study, lead, attributes, key, value, message
    ):
        client.force_login(lead)
        response = client.post(
            url("participant_create", study),
            {"code": "I8", f"attr_{attributes[key].pk}": value},
        )
        page = response.content.decode()
        assert message in page
        # ...next to its field, not at the top of the form.
        assert message in " ".join(response.context["form"].errors[f"attr_{attributes[key].pk}"])
        assert not Participant.objects.filter(code="I8").exists()

    def test_service_validates_types_too(self, study, lead, attributes):
        with pytest.raises(ValidationError) as info:
            participant_services.participant_create(
                actor=lead,
                study=study,
                code="I9",
                attributes={
                    str(attributes["years"].pk): "NaN",
                    str(attributes["langs"].pk): ["xx"],
                },
            )
        assert set(info.value.message_dict) == {
            f"attr_{attributes['years'].pk}",
            f"attr_{attributes['langs'].pk}",
        }

    def test_codes_are_unique_per_study_ignoring_case(self, study, lead):
        participant_services.participant_create(actor=lead, study=study, code="I1")
        with pytest.raises(ValidationError):
            participant_services.participant_create(actor=lead, study=study, code="i1")

    def test_contact_details_only_for_admins_and_leads(
        self, client, study, lead, coder, reviewer, admin_user
    ):
        participant = participant_services.participant_create(
            actor=lead, study=study, code="I2", contact_email="secret@example.org"
        )
        for user in (lead, admin_user):
            client.force_login(user)
            page = client.get(url("participant_detail", study, pk=participant.pk))
            assert "secret@example.org" in page.content.decode()
        for user in (coder, reviewer):
            client.force_login(user)
            page = client.get(url("participant_detail", study, pk=participant.pk))
            assert page.status_code == 200
            assert "secret@example.org" not in page.content.decode()

    def test_stale_edit_is_refused(self, client, study, lead):
        participant = participant_services.participant_create(actor=lead, study=study, code="I3")
        participant_services.participant_update(
            actor=lead, participant=participant, version=1, code="I3b", case=None, attributes={}
        )
        client.force_login(lead)
        response = client.post(
            url("participant_edit", study, pk=participant.pk), {"code": "I3c", "version": 1}
        )
        assert "changed by someone else" in response.content.decode()
        participant.refresh_from_db()
        assert participant.code == "I3b"

    def test_list_filters_by_consent_state(self, client, study, lead, admin_user):
        consented_participant(study, "I1")
        consented_participant(study, "I2", uses={"transcribe"})
        participant_services.participant_create(actor=lead, study=study, code="I3")
        client.force_login(lead)

        def codes(state):
            page = client.get(url("participant_list", study), {"consent": state}).content.decode()
            return {code for code in ("I1", "I2", "I3") if f">{code}<" in page}

        assert codes("active") == {"I1"}
        assert codes("limited") == {"I2"}
        assert codes("none") == {"I3"}

    def test_participant_of_another_study_is_404(self, client, study, lead, outsider):
        from workbench.models import Study

        other = Study.objects.get(name="Someone else's study")
        foreign = participant_services.participant_create(actor=outsider, study=other, code="X1")
        client.force_login(lead)
        assert client.get(url("participant_detail", study, pk=foreign.pk)).status_code == 404

    def test_list_query_count_does_not_grow(
        self, client, study, lead, attributes, django_assert_num_queries
    ):
        client.force_login(lead)
        consented_participant(study, "I1")
        client.get(url("participant_list", study))
        # session, user, study, permissions, attributes, participants (consent and counts in
        # subqueries), cases for the filter, and for the add form: attributes, cases
        with django_assert_num_queries(9):
            client.get(url("participant_list", study))
        for n in range(2, 40):
            consented_participant(study, f"I{n}")
        with django_assert_num_queries(9):
            page = client.get(url("participant_list", study)).content.decode()
        assert "39 participants" in page


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, u: case_services.case_create(actor=u, study=s, name="  "), "name"),
        (lambda s, u: case_services.case_create(actor=u, study=s, name="x" * 201), "name"),
        (lambda s, u: participant_services.participant_create(actor=u, study=s, code=""), "code"),
        (
            lambda s, u: participant_services.participant_create(actor=u, study=s, code="I" * 31),
            "code",
        ),
        (
            lambda s, u: attribute_services.attribute_create(
                actor=u, study=s, target="case", name="", kind="text"
            ),
            "name",
        ),
    ],
)
def test_services_refuse_empty_and_overlong_names(study, lead, call, field):
    """Any caller, not just the forms, gets a message rather than a database error."""
    with pytest.raises(ValidationError) as info:
        call(study, lead)
    assert field in info.value.message_dict
