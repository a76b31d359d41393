"""The coder's tools around a coding: editor, span nudges, pins, recent codes, inline inductive
codes, general undo, filters, re-check flags and blind usage counts in the codebook."""

import datetime
import itertools
import re

import pytest

from coding.models import (
    Code,
    CodeOrigin,
    CodeStatus,
    Coding,
    CodingMode,
    InductivePolicy,
    LayerRole,
    LayerStatus,
    PinnedCode,
)
from coding.selectors.blindness import visible_layers, visible_layers_in_study
from coding.services import assignments as assignment_services
from coding.services import codebook as codebook_services
from coding.services import codings as coding_services
from tests.coding.test_codings import (  # noqa: F401 (fixtures shared with the view tests)
    HX,
    code,
    code2,
    coded,
    layers,
    span,
    transcript,
    url,
)
from tests.factories import UserFactory, consented_participant, give_roles, imported_transcript
from transcripts.services import consent as consent_services
from transcripts.services import transcripts as transcript_services
from workbench.roles import Role

TOKEN = re.compile(r'name="token" value="([^"]+)"')


def post(client, name, study, pk, data=None, current=""):
    headers = dict(HX)
    if current:
        headers["HX-Current-URL"] = "http://testserver" + current
    return client.post(url(name, study, pk), data or {}, headers=headers).content.decode()


def undo(client, study, transcript, html):
    return post(client, "coding_undo", study, transcript.pk, {"token": TOKEN.search(html)[1]})


# --- span nudges (pure) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "edge, forward, expected",
    [
        ("start", False, "one two three"),  # start moves back a whole word
        ("start", True, "three"),
        ("end", True, "two three four"),
        ("end", False, "two"),
    ],
)
def test_nudges_move_an_edge_by_whole_words(edge, forward, expected):
    text = "one two three four"
    start, end = text.index("two"), text.index("three") + len("three")
    s, e = coding_services.nudged(text, start, end, edge, forward)
    assert text[s:e] == expected


def test_a_nudge_never_empties_the_span_or_leaves_the_text():
    text = "only"
    assert coding_services.nudged(text, 0, 4, "start", True) == (0, 4)
    assert coding_services.nudged(text, 0, 4, "end", False) == (0, 4)
    assert coding_services.nudged(text, 0, 4, "start", False) == (0, 4)
    assert coding_services.nudged(text, 0, 4, "end", True) == (0, 4)
    # From the middle of a word, a nudge outward takes in the rest of the word.
    assert coding_services.nudged("a 🤗emoji b", 3, 5, "end", True) == (3, 8)


# --- the editor ------------------------------------------------------------------------------


class TestEditor:
    def test_htmx_gets_the_editor_with_a_form_for_the_own_coding(
        self, client_for, study, coded, coder
    ):
        html = client_for(coder).get(url("coding_editor", study, coded.public_id), headers=HX)
        html = html.content.decode()
        assert "我们没有GPU 🤗" in html
        assert 'name="nudge"' in html and "Delete coding Compute as a gate" in html
        assert "<html" not in html

    def test_overseers_read_without_a_form(self, client_for, study, coded, lead):
        html = client_for(lead).get(url("coding_editor", study, coded.public_id), headers=HX)
        html = html.content.decode()
        assert "我们没有GPU 🤗" in html and "gpu" in html
        assert "<form" not in html

    def test_a_blind_coder_gets_404(self, client_for, study, coded, coder2):
        response = client_for(coder2).get(url("coding_editor", study, coded.public_id), headers=HX)
        assert response.status_code == 404

    def test_without_htmx_it_opens_the_page_with_the_coding_selected(
        self, client_for, study, transcript, coded, coder
    ):
        c = client_for(coder)
        response = c.get(url("coding_editor", study, coded.public_id))
        assert (
            response.url == url("coding_view", study, transcript.pk) + f"?coding={coded.public_id}"
        )
        html = c.get(response.url).content.decode()
        assert f'class="editor-body" data-coding="{coded.public_id}"' in html

    def test_change_code_memo_and_exemplar_then_undo(
        self, client_for, study, transcript, coded, coder, code2
    ):
        c = client_for(coder)
        html = post(
            c,
            "coding_edit",
            study,
            coded.public_id,
            {
                "fields": "all",
                "version": coded.version,
                "code": code2.public_id,
                "memo": "scarce GPUs",
                "exemplar": "on",
            },
        )
        coded.refresh_from_db()
        assert (coded.code_id, coded.memo, coded.exemplar) == (code2.pk, "scarce GPUs", True)
        assert "Changed a “Small team” coding." in html
        assert (
            f'class="editor-body" data-coding="{coded.public_id}"' in html
        )  # the editor stays open
        undo(c, study, transcript, html)
        coded.refresh_from_db()
        assert (coded.code.name, coded.memo, coded.exemplar) == ("Compute as a gate", "gpu", False)

    def test_nudges_and_a_new_selection_move_the_span_and_its_snippet(
        self, client_for, study, transcript, coded, coder
    ):
        c = client_for(coder)
        post(
            c,
            "coding_edit",
            study,
            coded.public_id,
            {"version": coded.version, "nudge": "end-forward"},
        )
        coded.refresh_from_db()
        assert coded.snippet == "我们没有GPU 🤗 so"
        s, e = span(transcript.text, "so we waited weeks")
        post(
            c,
            "coding_edit",
            study,
            coded.public_id,
            {
                "version": coded.version,
                "span": "selection",
                "start": s,
                "end": e,
                "text_version": transcript.text_sha256[:16],
            },
        )
        coded.refresh_from_db()
        assert coded.snippet == "so we waited weeks"
        assert coded.memo == "gpu"  # a span change alone leaves the rest as it was

    def test_a_selection_from_before_a_text_correction_is_refused(
        self, client_for, study, transcript, coded, coder
    ):
        html = post(
            client_for(coder),
            "coding_edit",
            study,
            coded.public_id,
            {
                "version": coded.version,
                "span": "selection",
                "start": 0,
                "end": 5,
                "text_version": "0" * 16,
            },
        )
        assert "text was corrected since you opened this page" in html
        before = coded.snippet
        coded.refresh_from_db()
        assert coded.snippet == before

    def test_a_stale_edit_is_refused(self, client_for, study, coded, coder):
        html = post(
            client_for(coder),
            "coding_edit",
            study,
            coded.public_id,
            {"version": coded.version - 1, "fields": "all", "memo": "old tab"},
        )
        assert "changed by someone else" in html
        coded.refresh_from_db()
        assert coded.memo == "gpu"

    def test_only_the_layer_s_coder_edits(self, client_for, study, coded, lead, coder2):
        data = {"fields": "all", "memo": "x"}
        assert (
            client_for(lead).post(url("coding_edit", study, coded.public_id), data).status_code
            == 403
        )
        assert (
            client_for(coder2).post(url("coding_edit", study, coded.public_id), data).status_code
            == 404
        )


# --- undo of every action ------------------------------------------------------------------


class TestUndo:
    def test_undo_of_an_apply_removes_every_coding_it_made(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited weeks")
        html = post(
            c,
            "coding_apply",
            study,
            transcript.pk,
            {"start": s, "end": e, "code": [code.public_id, code2.public_id]},
        )
        assert "Applied “Compute as a gate”, “Small team”." in html
        assert Coding.objects.count() == 2
        undo(c, study, transcript, html)
        assert not Coding.objects.exists()

    def test_undo_refuses_to_lose_a_later_change(
        self, client_for, study, transcript, layers, coder, code
    ):
        c = client_for(coder)
        s, e = span(transcript.text, "so we waited weeks")
        html = post(
            c, "coding_apply", study, transcript.pk, {"start": s, "end": e, "code": code.public_id}
        )
        coding = Coding.objects.get()
        coding_services.coding_update(
            actor=coder, coding=coding, version=coding.version, memo="later thought"
        )
        html = undo(c, study, transcript, html)
        assert "Could not undo" in html
        assert Coding.objects.get().memo == "later thought"

    def test_undo_of_a_delete_brings_back_the_re_check_flag(
        self, client_for, study, transcript, coded, coder
    ):
        coded = coding_services.coding_update(
            actor=coder, coding=coded, version=coded.version, needs_recheck=True
        )
        c = client_for(coder)
        html = post(c, "coding_delete", study, coded.public_id)
        assert "Deleted a “Compute as a gate” coding." in html
        undo(c, study, transcript, html)
        restored = Coding.objects.get()
        assert (restored.snippet, restored.memo, restored.needs_recheck) == (
            "我们没有GPU 🤗",
            "gpu",
            True,
        )


# --- inline inductive codes ----------------------------------------------------------------


class TestNewCodeWhileCoding:
    def data(self, transcript, **extra):
        s, e = span(transcript.text, "ทีมของเราเล็กมาก")
        return {"start": s, "end": e, "text_version": transcript.text_sha256[:16]} | extra

    def test_it_creates_an_inductive_code_and_applies_it(
        self, client_for, study, transcript, layers, coder, code
    ):
        html = post(
            client_for(coder),
            "coding_new_code",
            study,
            transcript.pk,
            self.data(
                transcript,
                name="Tiny team pride",
                definition="Pride in a small team.",
                code=code.public_id,
            ),
        )
        new = Code.objects.get(name="Tiny team pride")
        assert new.origin == CodeOrigin.INDUCTIVE
        assert (new.created_by, new.first_seen_transcript) == (coder, transcript)
        assert new.status == CodeStatus.ACTIVE
        assert {c.code.name for c in Coding.objects.all()} == {
            "Tiny team pride",
            "Compute as a gate",
        }
        assert all(c.snippet == "ทีมของเราเล็กมาก" for c in Coding.objects.all())
        assert "Applied “Tiny team pride”, “Compute as a gate”." in html
        assert new.versions.get().note == "created while coding"

    def test_under_the_approval_policy_the_code_is_pending_but_usable(
        self, client_for, study, transcript, layers, coder, admin_user
    ):
        codebook_services.codebook_settings_update(
            actor=admin_user, study=study, version=None, inductive_codes=InductivePolicy.PENDING
        )
        html = post(
            client_for(coder),
            "coding_new_code",
            study,
            transcript.pk,
            self.data(transcript, name="Tiny team pride", definition="Pride in a small team."),
        )
        assert Code.objects.get(name="Tiny team pride").status == CodeStatus.PENDING
        assert "waits for an admin" in html
        assert Coding.objects.get().code.name == "Tiny team pride"
        assert 'data-search="tiny team pride' in html  # its creator can keep applying it

    @pytest.mark.parametrize(
        "extra, message",
        [
            ({"name": "", "definition": "Something."}, "Give the new code a name"),
            ({"name": "Fresh", "definition": " "}, "what the new code means"),
            ({"name": "compute AS a gate", "definition": "Dup."}, "already has a code named"),
        ],
    )
    def test_bad_input_keeps_what_was_typed_and_creates_nothing(
        self, client_for, study, transcript, layers, coder, code, extra, message
    ):
        codes_before = Code.objects.count()
        html = post(
            client_for(coder),
            "coding_new_code",
            study,
            transcript.pk,
            self.data(transcript, **extra),
        )
        assert message in html
        assert 'data-reopen="true"' in html
        assert f'value="{extra["name"]}"' in html
        assert Code.objects.count() == codes_before
        assert not Coding.objects.exists()

    def test_a_submitted_layer_creates_no_orphan_code(
        self, client_for, study, transcript, layers, coder
    ):
        assignment_services.layer_submit(actor=coder, layer=layers[LayerRole.PRIMARY])
        html = post(
            client_for(coder),
            "coding_new_code",
            study,
            transcript.pk,
            self.data(transcript, name="Fresh", definition="Fresh idea."),
        )
        assert "submitted" in html
        assert not Code.objects.filter(name="Fresh").exists()

    def test_overseers_cannot(self, client_for, study, transcript, layers, lead):
        response = client_for(lead).post(
            url("coding_new_code", study, transcript.pk),
            self.data(transcript, name="Fresh", definition="Fresh idea."),
        )
        assert response.status_code == 403
        assert not Code.objects.filter(name="Fresh").exists()


# --- pins and recent codes -------------------------------------------------------------------


def picker_order(html):
    """The picker's options in order, as (code public id, number key or "")."""
    picker = html[html.index('id="picker-list"') :]
    options = re.findall(r'<li role="option" id="pick-([\w-]+)"([^>]*)>', picker)
    return [(ref, (re.findall(r'data-key="(\d)"', attrs) or [""])[0]) for ref, attrs in options]


class TestPicker:
    @pytest.fixture
    def many(self, study, admin_user):
        return [
            codebook_services.code_create(actor=admin_user, study=study, name=f"Code {n:02d}")
            for n in range(12)
        ]

    def test_pinned_codes_lead_and_take_the_number_keys(
        self, client_for, study, transcript, layers, coder, many
    ):
        c = client_for(coder)
        for pinned in (many[7], many[3]):
            post(c, "coding_pin", study, transcript.pk, {"code": pinned.public_id})
        html = c.get(url("coding_view", study, transcript.pk)).content.decode()
        order = picker_order(html)
        assert order[:2] == [(many[7].public_id, "1"), (many[3].public_id, "2")]
        assert all(key == "" for _, key in order[2:])  # only pins answer number keys
        assert html.count('aria-pressed="true"') == 2
        # Toggling again unpins; without pins the first nine of the codebook take the keys.
        for pinned in (many[7], many[3]):
            post(c, "coding_pin", study, transcript.pk, {"code": pinned.public_id})
        order = picker_order(c.get(url("coding_view", study, transcript.pk)).content.decode())
        assert order[:10] == [(m.public_id, str(n)) for n, m in enumerate(many[:9], 1)] + [
            (many[9].public_id, "")
        ]

    def test_at_most_nine_pins_and_pins_are_personal(
        self, client_for, study, transcript, layers, coder, coder2, many
    ):
        c = client_for(coder)
        for pinned in many[:9]:
            post(c, "coding_pin", study, transcript.pk, {"code": pinned.public_id})
        html = post(c, "coding_pin", study, transcript.pk, {"code": many[9].public_id})
        assert "unpin one first" in html
        assert PinnedCode.objects.filter(user=coder).count() == 9
        html = client_for(coder2).get(url("coding_view", study, transcript.pk)).content.decode()
        assert 'aria-pressed="true"' not in html

    def test_recently_used_codes_come_first(
        self, client_for, study, transcript, layers, coder, many
    ):
        layer = layers[LayerRole.PRIMARY]
        s, e = span(transcript.text, "so we waited")
        for used in (many[10], many[5]):
            coding_services.coding_create(actor=coder, layer=layer, code=used, start=s, end=e)
        html = client_for(coder).get(url("coding_view", study, transcript.pk)).content.decode()
        order = picker_order(html)
        # The number keys stay on the codebook's first nine; a recently used code without a
        # key comes right after them.
        assert order[:10] == [(m.public_id, str(n)) for n, m in enumerate(many[:9], 1)] + [
            (many[10].public_id, "")
        ]
        assert html.count('<span class="tag recent">recent</span>') == 2

    def test_number_keys_keep_their_codes_whatever_is_applied(
        self, client_for, study, transcript, layers, coder, many
    ):
        # Applying codes (recency) never re-maps a key: only pins do, and unpinning restores
        # the codebook's order.
        c = client_for(coder)

        def keys():
            page = c.get(url("coding_view", study, transcript.pk)).content.decode()
            return {key: pk for pk, key in picker_order(page) if key}

        before = keys()
        assert before == {str(n): m.public_id for n, m in enumerate(many[:9], 1)}
        for used in (many[11], many[4], many[0]):
            s, e = span(transcript.text, "so we waited")
            post(
                c,
                "coding_apply",
                study,
                transcript.pk,
                {"start": s, "end": e, "code": used.public_id},
            )
            assert keys() == before
        post(c, "coding_pin", study, transcript.pk, {"code": many[11].public_id})
        assert keys() == {"1": many[11].public_id}
        post(c, "coding_pin", study, transcript.pk, {"code": many[11].public_id})
        assert keys() == before


# --- filters -------------------------------------------------------------------------------


class TestFilters:
    def test_one_code_shows_only_the_turns_holding_it(
        self, client_for, study, transcript, layers, coder, code, code2
    ):
        layer = layers[LayerRole.PRIMARY]
        s, e = span(transcript.text, "ทีมของเราเล็กมาก")
        coding_services.coding_create(actor=coder, layer=layer, code=code2, start=s, end=e)
        s, e = span(transcript.text, "Compute, first.")
        coding_services.coding_create(actor=coder, layer=layer, code=code, start=s, end=e)
        c = client_for(coder)
        html = c.get(
            url("coding_view", study, transcript.pk) + f"?code={code2.public_id}"
        ).content.decode()
        assert html.count('class="cturn') == 1
        assert "ทีมของเราเล็กมาก" in html and "Compute, first." not in html
        assert "only “Small team”" in html and "3 turns without it hidden" in html
        # A write under the filter answers with the filter still on (HX-Current-URL).
        s, e = span(transcript.text, "but we shipped")
        html = post(
            c,
            "coding_apply",
            study,
            transcript.pk,
            {"start": s, "end": e, "code": code.public_id},
            current=url("coding_view", study, transcript.pk) + f"?code={code2.public_id}",
        )
        assert "only “Small team”" in html

    def test_only_my_layer_and_only_to_re_check(
        self, client_for, study, transcript, layers, coder, coder2, code
    ):
        mine = coding_services.coding_create(
            actor=coder,
            layer=layers[LayerRole.PRIMARY],
            code=code,
            **dict(zip(("start", "end"), span(transcript.text, "Compute"), strict=True)),
        )
        theirs = coding_services.coding_create(
            actor=coder2,
            layer=layers[LayerRole.SECOND],
            code=code,
            **dict(zip(("start", "end"), span(transcript.text, "so we waited"), strict=True)),
        )
        for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
            assignment_services.layer_submit(actor=user, layer=layers[role])
        c = client_for(coder)
        page = url("coding_view", study, transcript.pk)
        html = c.get(page).content.decode()
        assert f'data-coding="{theirs.public_id}"' in html  # both submitted: both layers visible
        html = c.get(page + "?mine=1").content.decode()
        assert (
            f'data-coding="{theirs.public_id}"' not in html
            and f'data-coding="{mine.public_id}"' in html
        )
        Coding.objects.filter(pk=theirs.pk).update(needs_recheck=True)
        html = c.get(page + "?recheck=1").content.decode()
        assert (
            f'data-coding="{theirs.public_id}"' in html
            and f'data-coding="{mine.public_id}"' not in html
        )


# --- re-check flags from a redefinition ------------------------------------------------------


def test_redefining_a_code_can_flag_its_codings_in_every_layer(
    client_for, study, transcript, layers, coder, coder2, code, code2, admin_user
):
    s, e = span(transcript.text, "Compute")
    one = coding_services.coding_create(
        actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=s, end=e
    )
    two = coding_services.coding_create(
        actor=coder2, layer=layers[LayerRole.SECOND], code=code, start=s, end=e
    )
    other = coding_services.coding_create(
        actor=coder, layer=layers[LayerRole.PRIMARY], code=code2, start=s, end=e
    )
    assignment_services.layer_submit(actor=coder2, layer=layers[LayerRole.SECOND])
    fields = {
        f: getattr(code, f) for f in ("name", "when_to_use", "when_not_to_use", "example", "colour")
    }
    # A recolour alone flags nothing, even when asked to.
    result = codebook_services.code_update(
        actor=admin_user,
        code=code,
        version=code.version,
        definition=code.definition,
        parent=None,
        flag_codings=True,
        **(fields | {"colour": "#123456"}),
    )
    assert result.flagged == 0
    result = codebook_services.code_update(
        actor=admin_user,
        code=result.code,
        version=result.code.version,
        definition="Narrower now.",
        parent=None,
        flag_codings=True,
        **(fields | {"colour": "#123456"}),
    )
    assert result.flagged == 2
    for coding, flagged in ((one, True), (two, True), (other, False)):
        before = coding.version
        coding.refresh_from_db()
        assert coding.needs_recheck is flagged
        assert coding.version == before + (1 if flagged else 0)  # open edit forms go stale
    html = client_for(coder).get(url("coding_view", study, transcript.pk)).content.decode()
    assert "Only codings to re-check (1)" in html
    assert "to re-check: open" in html
    # The coder re-checks and clears the flag.
    post(
        client_for(coder),
        "coding_edit",
        study,
        one.public_id,
        {"fields": "all", "version": one.version, "memo": ""},
    )
    one.refresh_from_db()
    assert one.needs_recheck is False


def test_the_codebook_page_offers_and_reports_the_flag(
    client_for, study, transcript, layers, coder, code, admin_user
):
    s, e = span(transcript.text, "Compute")
    coding_services.coding_create(
        actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=s, end=e
    )
    from django.urls import reverse

    response = client_for(admin_user).post(
        reverse("code_edit", kwargs={"study_slug": study.slug, "ref": code.public_id}),
        {
            f"code-{code.public_id}-name": code.name,
            f"code-{code.public_id}-definition": "A new definition.",
            f"code-{code.public_id}-colour": code.colour,
            f"code-{code.public_id}-version": code.version,
            f"code-{code.public_id}-flag_codings": "on",
        },
        follow=True,
    )
    assert "1 coding flagged to re-check." in response.content.decode()
    assert Coding.objects.get().needs_recheck


# --- usage counts in the codebook respect blindness -----------------------------------------


def usage(client, study, code):
    from django.urls import reverse

    html = client.get(reverse("codebook", kwargs={"study_slug": study.slug})).content.decode()
    row = html[html.index(f'id="code-{code.public_id}"') :]
    return int(re.search(r'<td class="number">(\d+)</td>', row)[1])


def test_codebook_usage_counts_only_what_the_viewer_may_see(
    client_for, study, transcript, layers, coder, coder2, code, lead, admin_user
):
    s, e = span(transcript.text, "Compute")
    coding_services.coding_create(
        actor=coder, layer=layers[LayerRole.PRIMARY], code=code, start=s, end=e
    )
    coding_services.coding_create(
        actor=coder2, layer=layers[LayerRole.SECOND], code=code, start=s, end=e
    )
    coding_services.coding_create(
        actor=coder2, layer=layers[LayerRole.SECOND], code=code, start=s + 1, end=e
    )
    assert usage(client_for(coder), study, code) == 1
    assert usage(client_for(coder2), study, code) == 2
    assert usage(client_for(lead), study, code) == 3
    assert usage(client_for(admin_user), study, code) == 0  # admins manage, they do not oversee
    for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
        assignment_services.layer_submit(actor=user, layer=layers[role])
    assert usage(client_for(coder), study, code) == 3
    # A withdrawn participant's transcript leaves every count.
    consent_services.consent_withdraw(
        actor=admin_user,
        participant=transcript.participant,
        reason="asked",
        effective_on=datetime.date(2026, 3, 1),
    )
    assert usage(client_for(lead), study, code) == 0


def test_study_wide_visibility_agrees_with_the_per_transcript_rule(study, lead, admin_user):
    """Every mode × status combination, for each coder and an overseer-who-also-codes."""
    a, b, r = UserFactory(username="ann"), UserFactory(username="ben"), UserFactory(username="rae")
    give_roles(study, a, Role.CODER)
    give_roles(study, b, Role.CODER)
    give_roles(study, r, Role.REVIEWER)
    participant = consented_participant(study, "P9")
    statuses = (LayerStatus.IN_PROGRESS, LayerStatus.SUBMITTED)
    cases = []
    for n, (mode, s1, s2, pair) in enumerate(
        itertools.product(CodingMode.values, statuses, statuses, [(a, b), (r, a)])
    ):
        t = imported_transcript(study, participant, f"I1: transcript number {n}.\n")
        t = transcript_services.transcript_update(
            actor=lead, transcript=t, version=1, status="ready"
        )
        assignment_services.assignment_set(
            actor=lead, transcript=t, primary=pair[0], second=pair[1], mode=mode
        )
        for layer in t.layers.all():
            layer.status = s1 if layer.role == LayerRole.PRIMARY else s2
            layer.save()
        cases.append(t)
    from guardian.shortcuts import get_user_perms

    for user in (a, b, r, lead):
        perms = set(get_user_perms(user, study))
        expected = {layer.pk for t in cases for layer in visible_layers(user, perms, t)}
        got = set(visible_layers_in_study(user, perms, study).values_list("pk", flat=True))
        assert got == expected, user.username


def test_the_editor_has_a_fixed_number_of_queries(
    client_for, study, transcript, coded, coder, django_assert_max_num_queries
):
    c = client_for(coder)
    with django_assert_max_num_queries(11):
        assert c.get(url("coding_editor", study, coded.public_id), headers=HX).status_code == 200


@pytest.fixture
def other_transcript(study, lead):
    participant = consented_participant(study, "I2")
    t = imported_transcript(study, participant, "I2: Another interview entirely.\n")
    return transcript_services.transcript_update(
        actor=lead, transcript=t, version=1, status="ready"
    )


def test_a_coding_of_another_transcript_is_not_reachable_through_this_one(
    client_for, study, transcript, coded, coder, other_transcript
):
    # Undo tokens name their transcript: one from transcript A cannot act on transcript B.
    c = client_for(coder)
    html = post(c, "coding_delete", study, coded.public_id)
    token = TOKEN.search(html)[1]
    response = c.post(url("coding_undo", study, other_transcript.pk), {"token": token}, headers=HX)
    assert response.status_code == 403  # not assigned there at all
    assert not Coding.objects.exists()
