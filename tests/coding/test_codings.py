"""The coding view and its actions: roles, blindness on every endpoint, htmx vs page, queries."""

import re

import pytest
from django.urls import reverse

from coding.models import Coding, CodingMode, LayerRole, LayerStatus
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codebook import code_create, code_retire
from tests.factories import (
    UserFactory,
    consented_participant,
    give_roles,
    imported_transcript,
    ready_transcript,
)
from transcripts.models import ConsentUse
from transcripts.services import consent as consent_services
from workbench.roles import Role

TEXT = (
    "Interviewer: What got in the way?\n\n"
    "I1: Compute, first. 我们没有GPU 🤗 so we waited weeks. <b>Bold</b> & more.\n\n"
    "Interviewer: And then?\n\n"
    "I1: ทีมของเราเล็กมาก but we shipped.\n"
)
HX = {"HX-Request": "true"}


@pytest.fixture
def transcript(study, lead):
    return ready_transcript(study, lead, TEXT)


@pytest.fixture
def code(study, admin_user):
    return code_create(actor=admin_user, study=study, name="Compute as a gate", colour="#aa3377")


@pytest.fixture
def code2(study, admin_user):
    return code_create(actor=admin_user, study=study, name="Small team", colour="#228833")


@pytest.fixture
def layers(transcript, lead, coder, coder2):
    assignment_services.assignment_set(
        actor=lead,
        transcript=transcript,
        primary=coder,
        second=coder2,
        mode=CodingMode.INDEPENDENT,
    )
    return {layer.role: layer for layer in transcript.layers.all()}


def span(text, phrase):
    start = text.index(phrase)
    return start, start + len(phrase)


def url(name, study, pk):
    return reverse(name, args=[study.slug, pk])  # pk, or a public id for codings


@pytest.fixture
def coded(transcript, layers, coder, code):
    """One coding by the primary coder over a phrase with Chinese and an emoji."""
    start, end = span(transcript.text, "我们没有GPU 🤗")
    return coding_services.coding_create(
        actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=start, end=end, memo="gpu"
    )


class TestRoles:
    def test_it_lets_both_assigned_coders_in(self, client_for, study, transcript, layers, coder):
        response = client_for(coder).get(url("coding_view", study, transcript.pk))
        assert response.status_code == 200
        assert 'id="code-picker"' in response.content.decode()

    @pytest.mark.parametrize("role", ["lead", "reviewer"])
    def test_it_gives_overseers_a_read_only_view(
        self, client_for, study, transcript, coded, role, request
    ):
        user = request.getfixturevalue(role)
        response = client_for(user).get(url("coding_view", study, transcript.pk))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="code-picker"' not in html
        assert "Submit my layer" not in html
        assert f'data-codings="{coded.public_id}"' in html  # overseers see every layer
        # ...and cannot write.
        start, end = span(transcript.text, "Compute")
        response = client_for(user).post(
            url("coding_apply", study, transcript.pk), {"start": start, "end": end, "code": 1}
        )
        assert response.status_code == 403
        assert (
            client_for(user).post(url("coding_delete", study, coded.public_id)).status_code == 403
        )

    def test_it_refuses_unassigned_coders_and_admins(
        self, client_for, study, transcript, layers, admin_user
    ):
        other = UserFactory(username="nadia")
        give_roles(study, other, Role.CODER)
        for user in (other, admin_user):
            assert client_for(user).get(url("coding_view", study, transcript.pk)).status_code == 403

    def test_it_hides_the_study_from_outsiders(self, client_for, study, transcript, outsider):
        c = client_for(outsider)
        assert c.get(url("coding_view", study, transcript.pk)).status_code == 404
        assert c.post(url("coding_apply", study, transcript.pk)).status_code == 404

    def test_it_sends_anonymous_people_to_sign_in(self, client, study, transcript):
        response = client.get(url("coding_view", study, transcript.pk))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_it_refuses_wrong_methods(self, client_for, study, transcript, layers, coder, coded):
        c = client_for(coder)
        assert c.post(url("coding_view", study, transcript.pk)).status_code == 405
        for name, pk in [
            ("coding_apply", transcript.pk),
            ("coding_undo", transcript.pk),
            ("coding_redo", transcript.pk),
            ("coding_submit", transcript.pk),
            ("coding_delete", coded.pk),
            ("coding_edit", coded.pk),
            ("coding_new_code", transcript.pk),
            ("coding_pin", transcript.pk),
        ]:
            assert c.get(url(name, study, pk)).status_code == 405, name
        assert c.post(url("coding_editor", study, coded.public_id)).status_code == 405

    def test_it_locks_a_transcript_without_consent_to_analysis(
        self, client_for, study, transcript, layers, coder, admin_user
    ):
        from datetime import date

        consent_services.consent_record(
            actor=admin_user,
            participant=transcript.participant,
            form_version="v2",
            effective_on=date(2026, 2, 1),
            allowed=set(ConsentUse.values) - {ConsentUse.ANALYSE},
        )
        response = client_for(coder).get(url("coding_view", study, transcript.pk))
        assert response.status_code == 403
        assert "This transcript is locked" in response.content.decode()

    def test_a_transcript_of_another_study_is_404(self, client_for, study, layers, coder):
        other_study = UserFactory(username="olga")
        from workbench.services import studies as study_services

        theirs = study_services.study_create(actor=other_study, name="Theirs")
        participant = consented_participant(theirs, "X1")
        foreign = imported_transcript(theirs, participant, "I1: Hello there.\n")
        response = client_for(coder).get(url("coding_view", study, foreign.pk))
        assert response.status_code == 404


class TestPage:
    def test_it_renders_turns_with_escaped_split_text(
        self, client_for, study, transcript, coded, coder
    ):
        html = client_for(coder).get(url("coding_view", study, transcript.pk)).content.decode()
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; more." in html
        assert "<b>Bold</b>" not in html
        utterance = transcript.utterances.get(index=1)
        assert f'data-start="{utterance.start}" data-end="{utterance.end}"' in html
        # The highlight covers exactly the coded characters, in the code's colour.
        match = re.search(
            r'<span class="hl[^"]*"[^>]*data-codings="([\w-]+)"[^>]*>([^<]*)</span>', html
        )
        assert match.group(1) == coded.public_id
        assert match.group(2) == "我们没有GPU 🤗"
        assert "#aa3377" in html
        assert "gpu" in html  # the memo, in the margin card

    def test_overlapping_codings_are_all_visible(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        layer = layers[LayerRole.PRIMARY]
        s1, e1 = span(transcript.text, "Compute, first. 我们没有GPU")
        s2, e2 = span(transcript.text, "我们没有GPU 🤗 so we")
        one = coding_services.coding_create(actor=coder, layer=layer, code=code, start=s1, end=e1)
        two = coding_services.coding_create(actor=coder, layer=layer, code=code2, start=s2, end=e2)
        html = client_for(coder).get(url("coding_view", study, transcript.pk)).content.decode()
        pieces = dict(
            (m.group(2), m.group(1))
            for m in re.finditer(r'data-codings="([\w -]+)"[^>]*>([^<]*)</span>', html)
        )
        assert pieces["Compute, first. "] == one.public_id
        assert pieces["我们没有GPU"] == f"{one.public_id} {two.public_id}"
        assert pieces[" 🤗 so we"] == two.public_id

    def test_htmx_gets_the_workspace_fragment(self, client_for, study, transcript, coded, coder):
        response = client_for(coder).get(url("coding_view", study, transcript.pk), headers=HX)
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="coding-workspace"')
        assert "<html" not in html
        assert response["Vary"] and "HX-Request" in response["Vary"]

    def test_codebook_counts_only_visible_codings(
        self, client_for, study, transcript, coded, coder, lead
    ):
        html = client_for(lead).get(url("coding_view", study, transcript.pk)).content.decode()
        assert 'aria-label="1 coding in this transcript"' in html


class TestBlindness:
    """Independent mode: the second coder sees nothing of the primary's layer until both submit."""

    def test_the_other_coder_sees_no_trace_anywhere(
        self, client_for, study, transcript, layers, coded, coder, coder2, code
    ):
        c = client_for(coder2)
        for headers in ({}, HX):
            html = c.get(url("coding_view", study, transcript.pk), headers=headers)
            html = html.content.decode()
            assert 'class="hl' not in html
            assert "data-coding=" not in html
            assert "gpu" not in html  # the memo
            assert (
                'aria-label="0 codings in this transcript"' in html
            )  # the count is of their own layer only
            assert 'aria-label="1 coding in this transcript"' not in html
            assert "chen" not in html  # not even the other layer's existence
        # Actions on the other coder's coding: 404, as if it did not exist, and nothing changes.
        assert c.post(url("coding_delete", study, coded.public_id)).status_code == 404
        assert (
            c.post(
                url("coding_edit", study, coded.public_id), {"memo": "x", "fields": "all"}
            ).status_code
            == 404
        )
        coded.refresh_from_db()
        assert coded.memo == "gpu"
        # Fragments returned after their own writes are blind too.
        s, e = span(transcript.text, "ทีมของเราเล็กมาก")
        html = c.post(
            url("coding_apply", study, transcript.pk),
            {"start": s, "end": e, "code": code.public_id},
            headers=HX,
        ).content.decode()
        assert html.count('class="hl') == 1
        assert f'data-codings="{coded.public_id}"' not in html
        assert 'aria-label="1 coding in this transcript"' in html

    def test_both_layers_show_once_both_are_submitted(
        self, client_for, study, transcript, layers, coded, coder, coder2
    ):
        c1 = client_for(coder)
        c1.post(url("coding_submit", study, transcript.pk), {"confirm": "yes"})
        html = client_for(coder2).get(url("coding_view", study, transcript.pk)).content.decode()
        assert f'data-codings="{coded.public_id}"' not in html
        response = client_for(coder2).post(
            url("coding_submit", study, transcript.pk), {"confirm": "yes"}, headers=HX
        )
        html = response.content.decode()
        assert f'data-codings="{coded.public_id}"' in html
        assert 'aria-label="1 coding in this transcript"' in html


class TestApply:
    def test_it_applies_several_codes_and_returns_the_fragment(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        s, e = span(transcript.text, "ทีมของเราเล็กมาก")
        response = client_for(coder).post(
            url("coding_apply", study, transcript.pk),
            {"start": s, "end": e, "code": [code.public_id, code2.public_id]},
            headers=HX,
        )
        assert response.status_code == 200
        # Only what changed comes back, swapped in by id: the touched turn, counts, undo.
        assert response["HX-Reswap"] == "none"
        html = response.content.decode()
        turn = transcript.utterances.get(start__lte=s, end__gte=e)
        assert f'<li class="cturn role-participant" id="t{turn.index}" hx-swap-oob="true">' in html
        assert html.count('<li class="cturn') == 1
        assert (
            '<span id="coding-total" class="muted small" role="status" hx-swap-oob="true">' in html
        )
        assert "2 codings" in html
        assert html.count('aria-label="1 coding in this transcript"') == 2
        assert "Applied “Compute as a gate”, “Small team”." in html
        assert 'id="coding-workspace"' not in html
        stored = list(Coding.objects.order_by("code__name"))
        assert [c.snippet for c in stored] == ["ทีมของเราเล็กมาก"] * 2
        assert layers[LayerRole.PRIMARY].__class__.objects.get(
            pk=layers[LayerRole.PRIMARY].pk
        ).status == (LayerStatus.IN_PROGRESS)

    def test_a_plain_post_redirects_back(self, client_for, study, transcript, layers, coder, code):
        s, e = span(transcript.text, "Compute")
        response = client_for(coder).post(
            url("coding_apply", study, transcript.pk),
            {"start": s, "end": e, "code": code.public_id},
        )
        assert response.status_code == 302
        assert response.url == url("coding_view", study, transcript.pk)
        assert Coding.objects.get().snippet == "Compute"

    def test_white_space_at_the_ends_is_trimmed(
        self, client_for, study, transcript, layers, coder, code
    ):
        s, e = span(transcript.text, " so we waited ")
        client_for(coder).post(
            url("coding_apply", study, transcript.pk),
            {"start": s, "end": e, "code": code.public_id},
            headers=HX,
        )
        assert Coding.objects.get().snippet == "so we waited"

    @pytest.mark.parametrize(
        "data, message",
        [
            ({"start": "", "end": "4"}, "the span is missing"),
            ({"start": "a", "end": "4"}, "the span is missing"),
            ({"start": "0", "end": "99999"}, "lies outside the transcript"),
            ({"start": "8", "end": "4"}, "the end must come after the start"),
            ({"start": "0", "end": "4", "code": ""}, "Choose a code"),
            ({"start": "0", "end": "4", "code": "999999"}, "does not exist in this study"),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_writes_nothing(
        self, client_for, study, transcript, layers, coder, code, data, message
    ):
        data = {"code": code.public_id} | data
        response = client_for(coder).post(
            url("coding_apply", study, transcript.pk), data, headers=HX
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Coding.objects.exists()
        # Without htmx: a message after the redirect.
        response = client_for(coder).post(
            url("coding_apply", study, transcript.pk), data, follow=True
        )
        assert message in response.content.decode()
        assert not Coding.objects.exists()

    def test_retired_codes_and_submitted_layers_are_refused(
        self, client_for, study, transcript, layers, coder, code, code2, admin_user
    ):
        code_retire(actor=admin_user, code=code, version=code.version)
        s, e = span(transcript.text, "Compute")
        c = client_for(coder)
        html = c.post(
            url("coding_apply", study, transcript.pk),
            {"start": s, "end": e, "code": [code2.public_id, code.public_id]},
            headers=HX,
        ).content.decode()
        assert "is retired" in html
        assert not Coding.objects.exists()  # all or nothing: not even the active code
        assignment_services.layer_submit(actor=coder, layer=layers[LayerRole.PRIMARY])
        html = c.post(
            url("coding_apply", study, transcript.pk),
            {"start": s, "end": e, "code": code2.public_id},
            headers=HX,
        ).content.decode()
        assert "submitted" in html
        assert not Coding.objects.exists()


class TestDeleteUndoMemo:
    def test_delete_then_undo(self, client_for, study, transcript, coded, coder):
        c = client_for(coder)
        html = c.post(url("coding_delete", study, coded.public_id), headers=HX).content.decode()
        assert not Coding.objects.exists()
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        assert "Undo" in html
        html = c.post(url("coding_undo", study, transcript.pk), {"token": token}, headers=HX)
        restored = Coding.objects.get()
        assert (restored.code_id, restored.start, restored.end, restored.memo) == (
            coded.code_id,
            coded.start,
            coded.end,
            "gpu",
        )
        assert restored.snippet == "我们没有GPU 🤗"

    def test_plain_delete_redirects_with_an_undo_form(
        self, client_for, study, transcript, coded, coder
    ):
        response = client_for(coder).post(url("coding_delete", study, coded.public_id), follow=True)
        html = response.content.decode()
        assert response.redirect_chain[0][0].startswith(url("coding_view", study, transcript.pk))
        assert 'name="token"' in html

    def test_undos_are_personal(self, client_for, study, transcript, coded, coder, coder2):
        html = (
            client_for(coder)
            .post(url("coding_delete", study, coded.public_id), headers=HX)
            .content.decode()
        )
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        c2 = client_for(coder2)
        for bad in (token, token[:-2] + "xx", "nonsense"):
            html = c2.post(
                url("coding_undo", study, transcript.pk), {"token": bad}, headers=HX
            ).content.decode()
            assert "expired or is not yours" in html
        assert not Coding.objects.exists()

    def test_memo_edit_and_stale_version(self, client_for, study, transcript, coded, coder):
        c = client_for(coder)
        c.post(
            url("coding_edit", study, coded.public_id),
            {"memo": "  GPUs were scarce  ", "version": coded.version, "fields": "all"},
            headers=HX,
        )
        coded.refresh_from_db()
        assert coded.memo == "GPUs were scarce"
        html = c.post(
            url("coding_edit", study, coded.public_id),
            {"memo": "older", "version": coded.version - 1, "fields": "all"},
            headers=HX,
        ).content.decode()
        assert "changed by someone else" in html
        coded.refresh_from_db()
        assert coded.memo == "GPUs were scarce"

    def test_submit_needs_confirmation(self, client_for, study, transcript, layers, coder):
        c = client_for(coder)
        html = c.post(url("coding_submit", study, transcript.pk), headers=HX).content.decode()
        assert "Tick the box" in html
        layer = layers[LayerRole.PRIMARY]
        layer.refresh_from_db()
        assert layer.status == LayerStatus.NOT_STARTED
        c.post(url("coding_submit", study, transcript.pk), {"confirm": "yes"})
        layer.refresh_from_db()
        assert layer.status == LayerStatus.SUBMITTED


class TestQueries:
    def seed(self, transcript, layers, code, code2, n):
        text = transcript.text
        words = [
            (m.start(), m.end()) for m in re.finditer(r"\S+", text) if not m.group().endswith(":")
        ]
        # Every start of every word, so that no two codings of a code share a span.
        spans = [(s, e) for start, e in words for s in range(start, e)]
        done = Coding.objects.filter(layer=layers[LayerRole.PRIMARY]).count()
        for i in range(done, done + n):
            s, e = spans[i // 2 % len(spans)]
            for role in (LayerRole.PRIMARY, LayerRole.SECOND):
                Coding.objects.create(
                    layer=layers[role],
                    code=code if i % 2 else code2,
                    start=s,
                    end=e,
                    snippet=text[s:e],
                )

    def test_the_coding_view_has_a_fixed_number_of_queries(
        self,
        client_for,
        study,
        transcript,
        layers,
        coder,
        coder2,
        code,
        code2,
        lead,
        django_assert_num_queries,
    ):
        # 1 session, 2 user, 3 study, 4 the user's study permissions (guardian),
        # 5 transcript + participant, 6 visible layers + coders (the blindness rule, with the
        # assignment's mode in the same query), 7 current consent, 8 visible codings + their
        # codes, 9 utterances, 10 codes with their counts; a coder's page also 11 the top of
        # their undo stack and 12 of their redo stack.
        self.seed(transcript, layers, code, code2, 5)
        expected = {}
        for user in (coder, lead):
            c = client_for(user)
            with django_assert_num_queries(EXPECTED_QUERIES[user.username]) as ctx:
                assert c.get(url("coding_view", study, transcript.pk)).status_code == 200
            expected[user.username] = len(ctx.captured_queries)
        self.seed(transcript, layers, code, code2, 200)
        assert Coding.objects.count() == 410
        for user in (coder, lead):
            c = client_for(user)
            with django_assert_num_queries(expected[user.username]):
                html = c.get(url("coding_view", study, transcript.pk)).content.decode()
            assert html.count('class="mlabel') >= 200


EXPECTED_QUERIES = {"chen": 12, "lena": 10}


def test_themes_and_categories_stay_out_of_the_picker_unless_this_transcript_holds_one(
    client_for, study, admin_user, transcript, layers, coder, code
):
    category = code_create(actor=admin_user, study=study, name="Lifecycle", kind="category")
    theme = code_create(
        actor=admin_user, study=study, name="Review lets newcomers in", kind="theme"
    )
    html = client_for(coder).get(url("coding_view", study, transcript.pk)).content.decode()
    assert f'id="pick-{code.public_id}"' in html
    assert f'id="pick-{theme.public_id}"' not in html
    assert f'id="pick-{category.public_id}"' not in html
    # A theme already applied here (say, by a REFI-QDA import) stays in sight.
    start, end = span(transcript.text, "Compute")
    Coding.objects.create(
        layer=layers[LayerRole.PRIMARY], code=theme, start=start, end=end, snippet="Compute"
    )
    html = client_for(coder).get(url("coding_view", study, transcript.pk)).content.decode()
    assert f'id="pick-{theme.public_id}"' in html
    assert f'id="pick-{category.public_id}"' not in html
