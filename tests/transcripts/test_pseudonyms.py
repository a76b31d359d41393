"""The replacement list and pseudonymising a transcript: services, pages, roles, privacy."""

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from transcripts.models import (
    ConsentKind,
    ConsentRecord,
    ConsentUse,
    Participant,
    PseudonymRule,
    SpeakerRole,
    Transcript,
    Utterance,
)
from transcripts.services import pseudonyms as ps
from transcripts.services.transcripts import text_sha256
from workbench.models import AuditEvent, Study

HTMX = {"HX-Request": "true"}

# Speaker label, then what they say; each turn's span is the words after "label: ".
TURNS = [
    ("Interviewer", "Dzień dobry, Pani Łucjo. Thanks for joining, Łucja Wiśniewska."),
    ("Łucja Wiśniewska", "Happy to. At Acme Labs we trained 🤗 models; Dmitri calls me Łucja."),
    ("Interviewer", "And Дмитрий Иванов?"),
    ("Łucja Wiśniewska", "Дмитрий left ACME LABS in 2023. 我和张伟 still talk."),
]
RULES = [
    ("Łucja Wiśniewska", "[P1]"),
    ("Łucja", "[P1]"),
    ("Łucjo", "[P1]"),
    ("Acme Labs", "[ORG-A]"),
    ("Дмитрий Иванов", "[P2]"),
    ("Дмитрий", "[P2]"),
    ("Dmitri", "[P2]"),
    ("张伟", "[P3]"),
]
REAL_NAMES = ["Łucj", "Wiśniewska", "Acme", "Дмитрий", "Иванов", "Dmitri", "张伟"]
EXPECTED_TURNS = [
    "Dzień dobry, Pani [P1]. Thanks for joining, [P1].",
    "Happy to. At [ORG-A] we trained 🤗 models; [P2] calls me [P1].",
    "And [P2]?",
    "[P2] left [ORG-A] in 2023. 我和[P3] still talk.",
]


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def make_transcript(study, *, code="I3", turns=TURNS, title="Interview with Łucja Wiśniewska"):
    """Participant, consent, transcript and turns straight through the ORM."""
    actor = study.created_by
    participant = Participant.objects.create(study=study, code=code)
    ConsentRecord.objects.create(
        participant=participant,
        effective_on=date(2026, 1, 15),
        recorded_by=actor,
        **{f"allow_{use}": True for use in ConsentUse.values},
    )
    pieces, spans, position = [], [], 0
    for speaker, words in turns:
        line = f"{speaker}: {words}\n"
        start = position + len(speaker) + 2
        spans.append((speaker, start, start + len(words)))
        pieces.append(line)
        position += len(line)
    text = "".join(pieces)
    transcript = Transcript.objects.create(
        study=study,
        participant=participant,
        title=title,
        text=text,
        text_sha256=text_sha256(text),
        source_format="txt",
        original_filename="interview-3.txt",
        original_sha256="0" * 64,
        imported_by=actor,
    )
    Utterance.objects.bulk_create(
        Utterance(
            transcript=transcript,
            index=index,
            speaker=speaker,
            role=SpeakerRole.INTERVIEWER if speaker == "Interviewer" else SpeakerRole.PARTICIPANT,
            start=start,
            end=end,
        )
        for index, (speaker, start, end) in enumerate(spans)
    )
    return transcript


def add_rules(study, actor, rules=RULES):
    return [
        ps.pseudonym_rule_create(actor=actor, study=study, find=find, replace_with=label)
        for find, label in rules
    ]


def pseudonymise(actor, transcript):
    transcript.refresh_from_db()
    return ps.transcript_pseudonymise(
        actor=actor,
        transcript=transcript,
        version=transcript.version,
        expected_sha256=transcript.text_sha256,
    )


def audit_text() -> str:
    """Everything the audit trail holds, as one string to search."""
    return "\n".join(
        json.dumps([e.object_repr, e.before, e.after], ensure_ascii=False)
        for e in AuditEvent.objects.all()
    )


@pytest.fixture
def transcript(study):
    return make_transcript(study)


# --- services ------------------------------------------------------------------------------


class TestRules:
    def test_it_records_the_label_and_a_digest_never_the_name(self, study, lead, settings):
        from transcripts.rewriting.pseudonymise import find_digest

        secret = settings.SECRET_KEY.encode()
        rule = ps.pseudonym_rule_create(
            actor=lead, study=study, find=" Łucja Wiśniewska ", replace_with="[P1]"
        )
        assert rule.find == "Łucja Wiśniewska"
        event = AuditEvent.objects.get(verb="pseudonym_rule.create")
        assert event.object_repr == "→ [P1]"
        assert event.after == {
            "replace_with": "[P1]",
            "hmac of lower-cased name": find_digest("łucja wiśniewska", secret),
            "whole_word": True,
            "case_sensitive": False,
        }
        assert "Łucja" not in audit_text() and "łucja" not in audit_text()

    @pytest.mark.parametrize("again", ["Acme Labs", "ACME LABS", " acme labs "])
    def test_a_name_is_on_the_list_once(self, study, lead, again):
        ps.pseudonym_rule_create(actor=lead, study=study, find="Acme Labs", replace_with="[O]")
        with pytest.raises(ValidationError, match="already on the list"):
            ps.pseudonym_rule_create(actor=lead, study=study, find=again, replace_with="[X]")
        assert PseudonymRule.objects.count() == 1

    def test_the_same_name_may_be_on_another_studys_list(self, study, lead, outsider):
        other = Study.objects.get(name="Someone else's study")
        ps.pseudonym_rule_create(actor=lead, study=study, find="Acme", replace_with="[O]")
        ps.pseudonym_rule_create(actor=outsider, study=other, find="Acme", replace_with="[O]")
        assert PseudonymRule.objects.count() == 2

    @pytest.mark.parametrize(
        "find, label",
        [("", "[P1]"), ("  ", "[P1]"), ("Anna", ""), ("Anna", "Anna"), ("P1 Ltd", "P1")],
    )
    def test_it_refuses_rules_that_cannot_work(self, study, lead, find, label):
        with pytest.raises(ValidationError):
            ps.pseudonym_rule_create(actor=lead, study=study, find=find, replace_with=label)
        assert not PseudonymRule.objects.exists()
        assert not AuditEvent.objects.filter(verb__startswith="pseudonym").exists()

    def test_a_label_hiding_a_listed_name_is_refused(self, study, lead):
        ps.pseudonym_rule_create(actor=lead, study=study, find="Anna Nowak", replace_with="[P1]")
        with pytest.raises(ValidationError, match="could then never be replaced"):
            ps.pseudonym_rule_create(actor=lead, study=study, find="Olga", replace_with="Nowak")

    def test_delete_is_audited_without_the_name(self, study, lead):
        rule = ps.pseudonym_rule_create(actor=lead, study=study, find="Olga", replace_with="[P4]")
        ps.pseudonym_rule_delete(actor=lead, rule=rule)
        assert not PseudonymRule.objects.exists()
        event = AuditEvent.objects.get(verb="pseudonym_rule.delete")
        assert event.before["replace_with"] == "[P4]"
        assert "Olga" not in audit_text()


class TestPseudonymise:
    def test_it_rewrites_the_text_and_every_turn_keeps_its_words(self, study, lead, transcript):
        add_rules(study, lead)
        old_sha = transcript.text_sha256
        pseudonymise(lead, transcript)
        transcript.refresh_from_db()
        turns = list(transcript.utterances.order_by("index"))
        assert [transcript.text[u.start : u.end] for u in turns] == EXPECTED_TURNS
        assert [u.speaker for u in turns] == ["Interviewer", "[P1]", "Interviewer", "[P1]"]
        assert transcript.text.splitlines()[1] == f"[P1]: {EXPECTED_TURNS[1]}"
        assert transcript.title == "Interview with [P1]"
        assert transcript.text_sha256 == text_sha256(transcript.text) != old_sha
        assert transcript.replacements_made == 11
        assert transcript.version == 2 and transcript.pseudonymised_at is not None

    def test_the_real_names_are_gone_from_the_row_and_the_audit_trail(
        self, study, lead, transcript
    ):
        add_rules(study, lead)
        pseudonymise(lead, transcript)
        row = Transcript.objects.filter(pk=transcript.pk).values().get()
        speakers = list(Utterance.objects.values_list("speaker", flat=True))
        stored = json.dumps([row, speakers], ensure_ascii=False, default=str).casefold()
        trail = audit_text().casefold()
        for name in REAL_NAMES:
            assert name.casefold() not in stored, name
            assert name.casefold() not in trail, name

    def test_the_audit_event_has_counts_per_label_and_both_digests(self, study, lead, transcript):
        add_rules(study, lead)
        old_sha = transcript.text_sha256
        pseudonymise(lead, transcript)
        transcript.refresh_from_db()
        event = AuditEvent.objects.get(verb="transcript.pseudonymise")
        assert event.object_repr == "I3: Interview with [P1]"
        assert event.before["sha256 of text"] == old_sha
        assert event.after["sha256 of text"] == transcript.text_sha256
        assert event.after["replacements"] == {"[ORG-A]": 2, "[P1]": 5, "[P2]": 3, "[P3]": 1}
        assert event.after["total"] == 11
        assert event.after["also pseudonymised"] == ["title", "speaker labels"]

    def test_it_can_be_reapplied_when_the_list_grows(self, study, lead, transcript):
        add_rules(study, lead, RULES[:4])
        pseudonymise(lead, transcript)
        transcript.refresh_from_db()
        assert "Дмитрий" in transcript.text and transcript.replacements_made == 7
        add_rules(study, lead, RULES[4:])
        pseudonymise(lead, transcript)
        transcript.refresh_from_db()
        turns = transcript.utterances.order_by("index")
        assert [transcript.text[u.start : u.end] for u in turns] == EXPECTED_TURNS
        assert transcript.replacements_made == 11 and transcript.version == 3
        assert AuditEvent.objects.filter(verb="transcript.pseudonymise").count() == 2

    def test_with_nothing_left_to_replace_it_refuses(self, study, lead, transcript):
        add_rules(study, lead)
        pseudonymise(lead, transcript)
        with pytest.raises(ValidationError, match="Nothing to replace"):
            pseudonymise(lead, transcript)
        assert AuditEvent.objects.filter(verb="transcript.pseudonymise").count() == 1

    def test_an_empty_list_has_nothing_to_replace(self, study, lead, transcript):
        with pytest.raises(ValidationError, match="Nothing to replace"):
            pseudonymise(lead, transcript)

    def test_a_stale_preview_is_refused_and_changes_nothing(self, study, lead, transcript):
        add_rules(study, lead)
        before = transcript.text
        with pytest.raises(ValidationError, match="text changed since the preview"):
            ps.transcript_pseudonymise(
                actor=lead, transcript=transcript, version=1, expected_sha256="f" * 64
            )
        with pytest.raises(ValidationError, match="changed by someone else"):
            ps.transcript_pseudonymise(
                actor=lead, transcript=transcript, version=7, expected_sha256=text_sha256(before)
            )
        transcript.refresh_from_db()
        assert transcript.text == before and transcript.version == 1
        assert not AuditEvent.objects.filter(verb="transcript.pseudonymise").exists()

    def test_a_list_changed_since_the_preview_is_refused(self, study, lead, transcript):
        from transcripts.rewriting import pseudonymise as pure

        add_rules(study, lead, RULES[:2])
        fingerprint = pure.rules_fingerprint(ps.study_rules(study))
        add_rules(study, lead, RULES[2:3])
        with pytest.raises(ValidationError, match="list changed since the preview"):
            ps.transcript_pseudonymise(
                actor=lead,
                transcript=transcript,
                version=1,
                expected_sha256=transcript.text_sha256,
                rules_fingerprint=fingerprint,
            )

    def test_a_withdrawn_participants_transcript_is_locked(self, study, lead, transcript):
        add_rules(study, lead)
        ConsentRecord.objects.create(
            participant=transcript.participant,
            kind=ConsentKind.WITHDRAWAL,
            effective_on=date(2026, 2, 1),
            recorded_by=lead,
        )
        with pytest.raises(ValidationError, match="locked"):
            pseudonymise(lead, transcript)


# --- pages ---------------------------------------------------------------------------------


class TestListPage:
    def test_lead_sees_the_list_the_form_and_the_transcripts(self, as_lead, study, lead):
        make_transcript(study)
        add_rules(study, lead, RULES[:1])
        body = as_lead.get(url("pseudonym_list", study)).content.decode()
        assert "Łucja Wiśniewska" in body and "[P1]" in body
        assert 'name="find"' in body and 'name="replace_with"' in body
        assert "Interview with Łucja Wiśniewska" in body and "Preview" in body

    def test_htmx_gets_the_list_fragment(self, as_lead, study):
        body = as_lead.get(url("pseudonym_list", study), headers=HTMX).content.decode()
        assert "<html" not in body and 'id="pseudonyms"' in body

    def test_add_without_javascript_redirects(self, as_lead, study):
        response = as_lead.post(
            url("pseudonym_create", study),
            {"find": "Acme Labs", "replace_with": "[ORG-A]", "whole_word": "on"},
        )
        rule = PseudonymRule.objects.get()
        assert response.status_code == 302
        assert response.url == url("pseudonym_list", study) + f"#rule-{rule.pk}"
        assert (rule.whole_word, rule.case_sensitive) == (True, False)

    def test_add_with_htmx_returns_the_fragment(self, as_lead, study):
        response = as_lead.post(
            url("pseudonym_create", study),
            {"find": "Rose", "replace_with": "[P6]", "case_sensitive": "on"},
            headers=HTMX,
        )
        body = response.content.decode()
        rule = PseudonymRule.objects.get()
        assert "<html" not in body and f'id="rule-{rule.pk}"' in body
        assert 'hx-swap-oob="true"' in body and "Added" in body
        assert (rule.whole_word, rule.case_sensitive) == (False, True)

    def test_a_refused_rule_is_explained_in_the_form(self, as_lead, study, lead):
        add_rules(study, lead, RULES[:1])
        response = as_lead.post(
            url("pseudonym_create", study),
            {"find": "łucja wiśniewska", "replace_with": "[X]"},
            headers=HTMX,
        )
        assert "already on the list" in response.content.decode()
        assert PseudonymRule.objects.count() == 1

    def test_delete(self, as_lead, study, lead):
        [rule] = add_rules(study, lead, RULES[:1])
        response = as_lead.post(url("pseudonym_delete", study, pk=rule.pk))
        assert response.status_code == 302
        assert not PseudonymRule.objects.exists()

    def test_another_studys_rule_is_404(self, as_lead, study, outsider):
        other = Study.objects.get(name="Someone else's study")
        foreign = ps.pseudonym_rule_create(
            actor=outsider, study=other, find="Acme", replace_with="[O]"
        )
        assert as_lead.post(url("pseudonym_delete", study, pk=foreign.pk)).status_code == 404
        assert PseudonymRule.objects.filter(pk=foreign.pk).exists()


class TestPreviewAndApply:
    def test_the_preview_lists_every_replacement_in_context(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        response = as_lead.get(url("pseudonym_preview", study, pk=transcript.pk))
        body = response.content.decode()
        assert response.status_code == 200
        assert body.count('id="replacement-') == 11
        for original in ["Łucjo", "Łucja Wiśniewska", "Acme Labs", "ACME LABS", "张伟"]:
            assert f"<del>{original}</del>" in body
        assert "<ins><mark>[ORG-A]</mark></ins>" in body
        assert "we trained 🤗 models; <del>Dmitri</del>" in body
        # Each snippet stays on its line; a speaker label is outside every turn.
        assert "#2 · Interviewer ·" in body and "#3 · outside the turns ·" in body
        assert "Pani <del>Łucjo</del><span" in body and "[P1]</mark></ins>. Thanks" in body
        # Counts per rule, the full name also in two speaker labels of the text.
        per_rule = {rule.find: n for rule, n in response.context["per_rule"]}
        assert per_rule == {
            "Łucja Wiśniewska": 3,
            "Łucja": 1,
            "Łucjo": 1,
            "Acme Labs": 2,
            "Дмитрий Иванов": 1,
            "Дмитрий": 1,
            "Dmitri": 1,
            "张伟": 1,
        }
        assert '<td>Łucja Wiśniewska</td><td><span class="tag">[P1]</span></td><td>3</td>' in body
        assert f'value="{transcript.text_sha256}"' in body
        assert 'name="rules_fingerprint"' in body

    def test_htmx_gets_the_preview_fragment(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        body = as_lead.get(
            url("pseudonym_preview", study, pk=transcript.pk), headers=HTMX
        ).content.decode()
        assert "<html" not in body and 'id="preview"' in body

    def test_previewing_changes_nothing(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        as_lead.get(url("pseudonym_preview", study, pk=transcript.pk))
        transcript.refresh_from_db()
        assert "Łucja" in transcript.text and transcript.version == 1

    def test_an_empty_list_says_so(self, as_lead, study, transcript):
        body = as_lead.get(url("pseudonym_preview", study, pk=transcript.pk)).content.decode()
        assert "Nothing to replace" in body and 'name="expected_sha256"' not in body

    def test_confirm_without_javascript_rewrites_and_redirects(
        self, as_lead, study, lead, transcript
    ):
        add_rules(study, lead)
        form = as_lead.get(url("pseudonym_preview", study, pk=transcript.pk)).context
        response = as_lead.post(
            url("pseudonym_apply", study, pk=transcript.pk),
            {
                "version": transcript.version,
                "expected_sha256": transcript.text_sha256,
                "rules_fingerprint": form["rules_fingerprint"],
            },
        )
        assert response.status_code == 302
        assert response.url == url("pseudonym_preview", study, pk=transcript.pk)
        transcript.refresh_from_db()
        turns = transcript.utterances.order_by("index")
        assert [transcript.text[u.start : u.end] for u in turns] == EXPECTED_TURNS
        page = as_lead.get(response.url).content.decode()
        assert "11 replacements made" in page and "Nothing to replace" in page

    def test_confirm_with_htmx_returns_the_fresh_preview(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        response = as_lead.post(
            url("pseudonym_apply", study, pk=transcript.pk),
            {"version": 1, "expected_sha256": transcript.text_sha256},
            headers=HTMX,
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="preview"' in body
        assert "11 replacements made" in body and "Nothing to replace" in body
        assert 'hx-swap-oob="true"' in body

    def test_a_stale_preview_is_refused_with_a_message(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        response = as_lead.post(
            url("pseudonym_apply", study, pk=transcript.pk),
            {"version": 1, "expected_sha256": "0" * 64},
            follow=True,
        )
        assert "text changed since the preview" in response.content.decode()
        transcript.refresh_from_db()
        assert "Łucja" in transcript.text and transcript.replacements_made == 0

    def test_an_incomplete_form_is_refused(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        response = as_lead.post(url("pseudonym_apply", study, pk=transcript.pk), follow=True)
        assert "form was incomplete" in response.content.decode()
        transcript.refresh_from_db()
        assert transcript.version == 1

    @pytest.mark.parametrize("name", ["pseudonym_preview", "pseudonym_apply"])
    def test_another_studys_transcript_is_404(self, as_lead, study, outsider, name):
        other = Study.objects.get(name="Someone else's study")
        foreign = make_transcript(other, code="X1")
        method = as_lead.get if name == "pseudonym_preview" else as_lead.post
        assert method(url(name, study, pk=foreign.pk)).status_code == 404

    def test_a_withdrawn_participants_transcript_is_locked(self, as_lead, study, lead, transcript):
        add_rules(study, lead)
        ConsentRecord.objects.create(
            participant=transcript.participant,
            kind=ConsentKind.WITHDRAWAL,
            effective_on=date(2026, 2, 1),
            recorded_by=lead,
        )
        response = as_lead.get(url("pseudonym_preview", study, pk=transcript.pk))
        assert response.status_code == 403
        assert "Łucja" not in response.content.decode()
        response = as_lead.post(
            url("pseudonym_apply", study, pk=transcript.pk),
            {"version": 1, "expected_sha256": transcript.text_sha256},
        )
        assert response.status_code == 403
        transcript.refresh_from_db()
        assert transcript.replacements_made == 0

    def test_preview_query_count_does_not_grow_with_the_list(
        self, as_lead, study, lead, transcript
    ):
        def count():
            with CaptureQueriesContext(connection) as ctx:
                assert as_lead.get(url("pseudonym_preview", study, pk=transcript.pk)).status_code
            return len(ctx.captured_queries)

        add_rules(study, lead, RULES[:1])
        small = count()
        add_rules(study, lead, RULES[1:])
        add_rules(study, lead, [(f"Name{n}", f"[N{n}]") for n in range(30)])
        assert count() == small


# --- who may do what -----------------------------------------------------------------------

# Written out by hand from the issue: the list shows real names, so every URL, reading ones
# included, is for admins and leads (``import_transcripts``).
PREPARERS = {"admin", "lead"}
URLS = {
    "pseudonym_list": ("get", PREPARERS),
    "pseudonym_create": ("post", PREPARERS),
    "pseudonym_delete": ("post", PREPARERS),
    "pseudonym_preview": ("get", PREPARERS),
    "pseudonym_apply": ("post", PREPARERS),
}


def _url_for(name, study, transcript, actor):
    kwargs = {}
    if name == "pseudonym_delete":
        # A fresh rule each time: the previous allowed role deleted the last one.
        rule = PseudonymRule.objects.create(
            study=study, find=f"Name {actor.pk}", replace_with="[X]"
        )
        kwargs["pk"] = rule.pk
    if name in {"pseudonym_preview", "pseudonym_apply"}:
        kwargs["pk"] = transcript.pk
    return url(name, study, **kwargs)


def test_the_urls_here_are_all_the_pseudonym_urls():
    from transcripts.views import pseudonyms

    assert {p.name for p in pseudonyms.urlpatterns} == set(URLS)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("name", sorted(URLS))
def test_role_matrix(client, study, role_users, transcript, name, htmx):
    method, allowed = URLS[name]
    headers = HTMX if htmx else {}
    for role, user in role_users.items():
        client.force_login(user)
        response = getattr(client, method)(_url_for(name, study, transcript, user), headers=headers)
        if role == "outsider":
            assert response.status_code == 404, (role, name)
        elif role in allowed:
            assert response.status_code in {200, 302}, (role, name, response.status_code)
        else:
            assert response.status_code == 403, (role, name, response.status_code)
            assert "Łucja" not in response.content.decode()
        client.logout()


@pytest.mark.parametrize("name", sorted(URLS))
def test_anonymous_is_sent_to_login(client, study, transcript, name):
    method, _ = URLS[name]
    response = getattr(client, method)(_url_for(name, study, transcript, study.created_by))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(URLS))
def test_wrong_method_is_refused(client, study, transcript, lead, name):
    method, _ = URLS[name]
    client.force_login(lead)
    wrong = client.delete if method == "post" else client.put
    assert wrong(_url_for(name, study, transcript, lead)).status_code == 405
