"""The theme board: moves, promotions, folds, status and undo (each one version per code touched
and one audit event, bad moves refused with nothing changed), the board's reading (counts from
the consensus layer, research questions, blindness) and its pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coding.models import Code, CodeKind, ConsensusCoding, ThemeStatus
from coding.selectors import themes as selectors
from coding.selectors.blindness import Viewer
from coding.services import themes as services
from coding.services.codebook import code_create, code_update
from tests.factories import ready_transcript
from workbench.access import member_perms
from workbench.models import AuditEvent


@pytest.fixture
def tree(study, admin_user, design):
    """Two categories, three themes, three codes (one not yet in a theme)."""

    def make(name, kind="code", parent=None, **kwargs):
        return code_create(
            actor=admin_user, study=study, name=name, kind=kind, parent=parent, **kwargs
        )

    lifecycle = make("Lifecycle", "category", research_questions=[design["rq1"]])
    motives = make("Motives", "category", research_questions=[design["rq2"]])
    on_ramp = make("Shared logs lower experimentation costs", "theme", lifecycle)
    gate = make("Compute decides whose work counts", "theme", lifecycle)
    belonging = make("Belonging keeps people contributing", "theme", motives)
    logs = make("Training logs", parent=on_ramp)
    gpus = make("GPU access", parent=gate)
    loose = make("Language pride")
    return {
        "lifecycle": lifecycle,
        "motives": motives,
        "on_ramp": on_ramp,
        "gate": gate,
        "belonging": belonging,
        "logs": logs,
        "gpus": gpus,
        "loose": loose,
    }


def fresh(code):
    return Code.objects.get(pk=code.pk)


def counts(study):
    return (
        sum(c.versions.count() for c in Code.objects.filter(study=study)),
        AuditEvent.objects.filter(study=study).count(),
    )


def state(study):
    return sorted(
        Code.objects.filter(study=study).values_list(
            "pk", "kind", "parent_id", "theme_status", "version"
        )
    )


class TestMoves:
    def test_moving_a_code_into_a_theme_writes_one_version_and_one_event(self, study, lead, tree):
        versions, events = counts(study)
        loose = tree["loose"]
        services.board_move(actor=lead, code=loose, version=loose.version, parent=tree["belonging"])
        loose = fresh(loose)
        assert loose.parent == tree["belonging"]
        assert counts(study) == (versions + 1, events + 1)
        assert loose.versions.last().change == "move"
        event = AuditEvent.objects.filter(study=study).latest("id")
        assert event.verb == "theme.move" and event.after["parent"] == tree["belonging"].name

    def test_moving_a_theme_to_another_category(self, study, lead, tree):
        gate = tree["gate"]
        services.board_move(actor=lead, code=gate, version=gate.version, parent=tree["motives"])
        assert fresh(gate).parent == tree["motives"]

    def test_reordering_siblings(self, study, lead, tree):
        gate = tree["gate"]
        services.board_move(
            actor=lead, code=gate, version=gate.version, parent=tree["lifecycle"], position=0
        )
        order = list(
            Code.objects.filter(parent=tree["lifecycle"])
            .order_by("position", "id")
            .values_list("name", flat=True)
        )
        assert order == [gate.name, tree["on_ramp"].name]

    @pytest.mark.parametrize(
        "code, parent, message",
        [
            ("lifecycle", "logs", "categories sit at the top"),
            ("lifecycle", "on_ramp", "categories sit at the top"),
            ("on_ramp", "logs", "A theme can only go into a category"),
            ("logs", "lifecycle", "A code can only go into a theme"),
            ("logs", "gpus", "A code can only go into a theme"),
        ],
    )
    def test_bad_moves_are_refused_and_change_nothing(
        self, study, lead, tree, code, parent, message
    ):
        before, written = state(study), counts(study)
        code = tree[code]
        with pytest.raises(ValidationError, match=message):
            services.board_move(actor=lead, code=code, version=code.version, parent=tree[parent])
        assert state(study) == before and counts(study) == written

    def test_a_theme_inside_itself_is_refused(self, study, lead, tree):
        # Kinds already rule this out; the cycle check stands behind them.
        theme = tree["on_ramp"]
        with pytest.raises(ValidationError):
            services.board_move(actor=lead, code=theme, version=theme.version, parent=theme)

    def test_a_stale_move_is_refused(self, study, lead, tree):
        loose = tree["loose"]
        before = state(study)
        with pytest.raises(ValidationError, match="changed by someone else"):
            services.board_move(
                actor=lead, code=loose, version=loose.version - 1, parent=tree["on_ramp"]
            )
        assert state(study) == before

    def test_coders_and_reviewers_may_not_arrange(self, study, coder, reviewer, tree):
        loose = tree["loose"]
        for person in (coder, reviewer):
            with pytest.raises(ValidationError, match="leads and admins"):
                services.board_move(
                    actor=person, code=loose, version=loose.version, parent=tree["on_ramp"]
                )
        assert fresh(loose).parent is None

    def test_moving_home_drops_the_same_extra_membership(self, study, lead, tree):
        loose = tree["loose"]
        services.code_also_in_set(
            actor=lead, code=loose, version=loose.version, themes=[tree["gate"]]
        )
        loose = fresh(loose)
        services.board_move(actor=lead, code=loose, version=loose.version, parent=tree["gate"])
        assert list(fresh(loose).also_in.all()) == []


class TestPromoteDemote:
    def test_promote_a_code_to_a_theme_in_a_category(self, study, lead, tree):
        loose = tree["loose"]
        versions, events = counts(study)
        services.code_promote(
            actor=lead, code=loose, version=loose.version, category=tree["motives"]
        )
        loose = fresh(loose)
        assert (loose.kind, loose.parent, loose.theme_status) == (
            CodeKind.THEME,
            tree["motives"],
            ThemeStatus.TENTATIVE,
        )
        assert loose.versions.last().change == "promote"
        assert counts(study) == (versions + 1, events + 1)

    def test_fold_a_theme_into_a_code_moves_its_codes(self, study, lead, tree):
        gate, logs_theme = tree["gate"], tree["on_ramp"]
        versions, events = counts(study)
        services.theme_demote(actor=lead, theme=gate, version=gate.version, into=logs_theme)
        gate, gpus = fresh(gate), fresh(tree["gpus"])
        assert (gate.kind, gate.parent) == (CodeKind.CODE, logs_theme)
        assert gpus.parent == logs_theme
        # One version for each of the two codes touched, one event for the fold.
        assert counts(study) == (versions + 2, events + 1)
        assert gate.versions.last().change == "demote"

    def test_fold_moves_extra_memberships_to_the_chosen_theme(self, study, lead, tree):
        loose = tree["loose"]
        services.code_also_in_set(
            actor=lead, code=loose, version=loose.version, themes=[tree["gate"]]
        )
        gate = fresh(tree["gate"])
        services.theme_demote(actor=lead, theme=gate, version=gate.version, into=tree["belonging"])
        assert list(fresh(loose).also_in.all()) == [tree["belonging"]]

    def test_fold_into_itself_or_a_category_is_refused(self, study, lead, tree):
        gate = tree["gate"]
        before = state(study)
        with pytest.raises(ValidationError, match="itself"):
            services.theme_demote(actor=lead, theme=gate, version=gate.version, into=gate)
        with pytest.raises(ValidationError, match="can only go into a theme"):
            services.theme_demote(
                actor=lead, theme=gate, version=gate.version, into=tree["motives"]
            )
        assert state(study) == before

    def test_status(self, study, lead, tree):
        theme = tree["on_ramp"]
        services.theme_status_set(
            actor=lead, code=theme, version=theme.version, status="established"
        )
        assert fresh(theme).theme_status == "established"
        with pytest.raises(ValidationError, match="only themes have a status"):
            services.theme_status_set(
                actor=lead, code=tree["logs"], version=None, status="established"
            )


class TestUndo:
    def test_undo_restores_the_previous_place(self, study, lead, tree):
        loose = tree["loose"]
        services.board_move(actor=lead, code=loose, version=loose.version, parent=tree["gate"])
        versions, events = counts(study)
        services.board_undo(actor=lead, study=study)
        loose = fresh(loose)
        assert loose.parent is None
        assert counts(study) == (versions + 1, events + 1)
        assert "undo" in loose.versions.last().note

    def test_undo_a_fold_brings_back_the_theme_and_its_codes(self, study, lead, tree):
        gate = tree["gate"]
        before = {pk: (kind, parent) for pk, kind, parent, *_ in state(study)}
        services.theme_demote(actor=lead, theme=gate, version=gate.version, into=tree["on_ramp"])
        services.board_undo(actor=lead, study=study)
        assert {pk: (kind, parent) for pk, kind, parent, *_ in state(study)} == before

    def test_undo_is_refused_once_something_depends_on_the_move(
        self, study, lead, admin_user, tree
    ):
        loose = tree["loose"]
        services.code_promote(actor=lead, code=loose, version=loose.version, category=None)
        # Something now depends on the promotion: in the codebook, a code was put into the
        # new theme (the theme itself did not change, so its version is the same).
        logs = tree["logs"]
        code_update(
            actor=admin_user,
            code=logs,
            version=logs.version,
            name=logs.name,
            definition="",
            when_to_use="",
            when_not_to_use="",
            example="",
            colour=logs.colour,
            parent=fresh(loose),
        )
        before = state(study)
        with pytest.raises(ValidationError, match="cannot be undone"):
            services.board_undo(actor=lead, study=study)
        assert state(study) == before

    def test_undo_is_refused_when_the_code_changed_since(self, study, lead, tree):
        theme = tree["on_ramp"]
        services.board_move(actor=lead, code=theme, version=theme.version, parent=tree["motives"])
        services.theme_status_set(
            actor=lead, code=theme, version=fresh(theme).version, status="established"
        )
        services.board_undo(actor=lead, study=study)  # takes back the status
        theme = fresh(theme)
        services.theme_update(
            actor=lead,
            code=theme,
            version=theme.version,
            name="Shared logs make experiments cheaper",
            definition="",
            theme_status="tentative",
        )
        with pytest.raises(ValidationError, match="has changed since"):
            services.board_undo(actor=lead, study=study)
        assert fresh(theme).parent == tree["motives"]

    def test_nothing_to_undo(self, study, lead, tree):
        with pytest.raises(ValidationError, match="no board move"):
            services.board_undo(actor=lead, study=study)


class TestCreateUpdate:
    def test_create_a_theme_mapped_to_questions_with_one_version_and_event(
        self, study, lead, design
    ):
        versions, events = counts(study)
        theme = services.theme_create(
            actor=lead,
            study=study,
            kind="theme",
            name="Shared documentation reduces experimentation costs",
            research_questions=[design["rq1"], design["rq2"]],
            dimension_values=[design["value"]],
            theme_status="established",
        )
        assert {rq.label for rq in theme.research_questions.all()} == {"RQ1", "RQ2"}
        assert theme.versions.get().snapshot["research_questions"] == ["RQ1", "RQ2"]
        assert counts(study) == (versions + 1, events + 1)

    def test_a_code_is_not_created_here(self, study, lead):
        with pytest.raises(ValidationError):
            services.theme_create(actor=lead, study=study, kind="code", name="Nope")


def _consensus(transcript, code, start, end, user):
    return ConsensusCoding.objects.create(
        transcript=transcript,
        code=code,
        start=start,
        end=end,
        snippet=transcript.text[start:end],
        source="agreed",
        created_by=user,
    )


def _viewer(user, study):
    return Viewer(user, member_perms(user, study), study)


class TestBoardReading:
    def test_counts_roll_up_from_codes_to_themes_and_categories(self, study, lead, tree, design):
        t1 = ready_transcript(study, lead, "I1: Logs and GPUs.\n", code="I1")
        t2 = ready_transcript(study, lead, "I2: More logs.\n", code="I2")
        _consensus(t1, tree["logs"], 4, 8, lead)
        _consensus(t1, tree["gpus"], 13, 17, lead)
        _consensus(t2, tree["logs"], 4, 14, lead)
        board = selectors.board(study, _viewer(lead, study))
        rq1 = board.sections[0]
        assert rq1.rq == design["rq1"]
        (lifecycle,) = rq1.categories
        assert (lifecycle.tally.codings, lifecycle.tally.interviews) == (3, 2)
        on_ramp = lifecycle.children[0]
        assert (on_ramp.code, on_ramp.tally.codings, on_ramp.tally.n_participants) == (
            tree["on_ramp"],
            2,
            2,
        )
        assert [n.code for n in board.pool] == [tree["loose"]]

    def test_the_page_shows_each_nodes_counts(self, client_for, study, lead, tree):
        transcript = ready_transcript(study, lead, "I1: Logs and GPUs.\n", code="I1")
        _consensus(transcript, tree["gpus"], 13, 17, lead)
        url = reverse("themes", kwargs={"study_slug": study.slug})
        page = client_for(lead).get(url).content.decode()
        assert (
            'aria-label="1 coding in 1 interview, 1 participant, 0 cases">'
            "<span>1 coding</span><span>1 interview</span><span>1 participant</span>"
            "<span>0 cases</span>"
        ) in page
        assert "<span>no codings yet</span>" in page  # a code with none

    def test_a_node_under_two_questions_appears_under_each_and_unmapped_ones_apart(
        self, study, lead, tree, design
    ):
        theme = tree["belonging"]
        services.theme_update(
            actor=lead,
            code=theme,
            version=theme.version,
            name=theme.name,
            definition="",
            research_questions=[design["rq1"]],
            theme_status="tentative",
        )
        code_create(actor=lead, study=study, name="Unsorted", kind="category")
        board = selectors.board(study, _viewer(lead, study))
        by_key = {s.key: s for s in board.sections}
        assert [n.code for n in by_key[f"rq{design['rq1'].pk}"].themes] == [theme]
        assert theme in [
            t.code for n in by_key[f"rq{design['rq2'].pk}"].categories for t in n.children
        ]
        assert [n.code.name for n in by_key["unmapped"].categories] == ["Unsorted"]

    def test_filters(self, study, lead, tree, design):
        theme = tree["gate"]
        services.theme_status_set(
            actor=lead, code=theme, version=theme.version, status="established"
        )
        board = selectors.board(study, _viewer(lead, study), filters={"status": "established"})
        shown = [t.code for s in board.sections for c in s.categories for t in c.children]
        assert shown == [tree["gate"]]
        board = selectors.board(study, _viewer(lead, study), filters={"rq": design["rq2"].pk})
        assert [s.key for s in board.sections] == [f"rq{design['rq2'].pk}"]

    def test_a_coders_layer_counts_only_when_the_viewer_may_see_it(
        self, study, lead, coder, coder2, tree
    ):
        from coding.services.assignments import assignment_set, layer_submit
        from coding.services.codings import coding_create

        transcript = ready_transcript(study, lead, "I1: Logs and GPUs.\n")
        assignment_set(
            actor=lead, transcript=transcript, primary=coder, second=coder2, mode="independent"
        )
        layers = {layer.role: layer for layer in transcript.layers.all()}
        coding_create(actor=coder, layer=layers["primary"], code=tree["logs"], start=4, end=8)
        layer_submit(actor=coder, layer=layers["primary"])
        # The second coder is still coding blind: the first coder's layer is not a source.
        blind = selectors.board(study, _viewer(coder2, study), source=str(coder.pk))
        assert blind.source == selectors.CONSENSUS
        assert all(n.tally.codings == 0 for n in blind.pool)
        assert str(coder.pk) not in {s.value for s in blind.sources}
        seen = selectors.board(study, _viewer(lead, study), source=str(coder.pk))
        assert seen.source == str(coder.pk)
        lifecycle = seen.sections[0].categories[0]
        assert lifecycle.tally.codings == 1


class TestPages:
    def test_board_page_shows_the_tree_and_forms_only_to_arrangers(
        self, client_for, study, lead, coder, tree
    ):
        url = reverse("themes", kwargs={"study_slug": study.slug})
        page = client_for(lead).get(url + "?status=tentative").content.decode()
        assert "Codes not yet in a theme" in page
        # Each item's "Move…" leads to its menu (filters kept); the menus themselves are read
        # only when opened, so no item carries a list of every theme.
        menu = reverse(
            "theme_menu", kwargs={"study_slug": study.slug, "ref": tree["loose"].public_id}
        )
        assert f'href="{menu}?status=tentative"' in page and "Move…" in page
        assert (
            'name="also_in"' not in page and '<option value="' + tree["gate"].public_id not in page
        )
        page = client_for(coder).get(url).content.decode()
        assert tree["on_ramp"].name in page and "Move…" not in page

    def test_a_menu_without_javascript_is_a_page_whose_forms_post_back_to_the_board(
        self, client_for, study, lead, tree
    ):
        client = client_for(lead)
        loose = tree["loose"]
        kwargs = {"study_slug": study.slug, "ref": loose.public_id}
        page = client.get(reverse("theme_menu", kwargs=kwargs) + "?status=tentative")
        body = page.content.decode()
        assert page.status_code == 200 and "<html" in body and "hx-post" not in body
        assert "Move the code “Language pride”" in body
        move = reverse("theme_move", kwargs=kwargs) + "?status=tentative"
        assert f'action="{move}"' in body
        for form in ("theme_links", "theme_promote"):
            assert reverse(form, kwargs=kwargs) in body
        assert tree["gate"].name in body and tree["lifecycle"].name in body
        response = client.post(
            move, {"parent": tree["gate"].public_id, "version": loose.version}, follow=True
        )
        assert response.redirect_chain[0][0].endswith("/themes/?status=tentative")
        assert fresh(loose).parent == tree["gate"]

    def test_a_menu_for_htmx_is_the_fragment_with_the_nodes_choices(
        self, client_for, study, lead, tree
    ):
        client = client_for(lead)

        def menu(code):
            url = reverse("theme_menu", kwargs={"study_slug": study.slug, "ref": code.public_id})
            response = client.get(url, headers={"HX-Request": "true"})
            assert response.status_code == 200 and "Vary" in response
            return response.content.decode()

        body = menu(tree["gpus"])
        assert "<html" not in body and "hx-post" in body and "menu-close" in body
        # Its theme is chosen; its "Also belongs to" leaves its own theme out.
        gate = tree["gate"].public_id
        assert f'<option value="{gate}" selected>' in body
        also = body[body.index('name="also_in"') :]
        assert gate not in also and tree["on_ramp"].public_id in also
        # A theme: categories to move to, fold into another theme (not itself), its status.
        body = menu(tree["on_ramp"])
        assert f'<option value="{tree["lifecycle"].public_id}" selected>' in body
        fold = body[body.index('name="into"') :]
        assert tree["on_ramp"].public_id not in fold.split("</select>")[0]
        assert "Mark established" in body and "Fold" in body
        # Its place among its siblings: the first of two goes down, not up.
        assert 'value="-1" disabled' in body and 'value="1" >' in body.replace("  ", " ")
        body = menu(tree["gate"])
        assert 'value="0" >' in body.replace("  ", " ") and 'value="2" disabled' in body

    def test_a_menu_is_for_arrangers_only(self, client_for, study, coder, outsider, tree):
        url = reverse(
            "theme_menu", kwargs={"study_slug": study.slug, "ref": tree["loose"].public_id}
        )
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(coder).get(url).status_code == 403
        missing = reverse("theme_menu", kwargs={"study_slug": study.slug, "ref": "nope"})
        assert client_for(outsider).get(missing).status_code == 404

    def test_plain_form_move_redirects_with_a_message(self, client_for, study, lead, tree):
        loose = tree["loose"]
        url = reverse("theme_move", kwargs={"study_slug": study.slug, "ref": loose.public_id})
        response = client_for(lead).post(
            url + "?status=tentative",
            {"parent": tree["gate"].public_id, "version": loose.version},
            follow=True,
        )
        assert response.redirect_chain[0][0].endswith("/themes/?status=tentative")
        assert fresh(loose).parent == tree["gate"]
        assert "Moved “Language pride” to “Compute decides whose work counts”" in (
            response.content.decode()
        )

    def test_a_bad_move_by_htmx_returns_the_board_with_the_reason(
        self, client_for, study, lead, tree
    ):
        category = tree["lifecycle"]
        url = reverse("theme_move", kwargs={"study_slug": study.slug, "ref": category.public_id})
        response = client_for(lead).post(
            url, {"parent": tree["on_ramp"].public_id}, headers={"HX-Request": "true"}
        )
        body = response.content.decode()
        assert response.status_code == 200 and 'id="board"' in body
        assert "categories sit at the top" in body
        assert fresh(category).parent is None

    def test_a_non_member_gets_404_and_a_coder_403_on_a_move(
        self, client_for, study, coder, outsider, tree
    ):
        loose = tree["loose"]
        url = reverse("theme_move", kwargs={"study_slug": study.slug, "ref": loose.public_id})
        assert client_for(outsider).post(url, {"parent": ""}).status_code == 404
        assert client_for(coder).post(url, {"parent": tree["gate"].public_id}).status_code == 403
        assert fresh(loose).parent is None

    def test_create_and_edit_a_theme(self, client_for, study, lead, design, tree):
        client = client_for(lead)
        create = reverse("theme_create", kwargs={"study_slug": study.slug})
        client.post(
            create,
            {
                "kind": "theme",
                "name": "Open logs invite newcomers",
                "parent": tree["lifecycle"].pk,
                "research_questions": [design["rq1"].pk],
                "theme_status": "tentative",
            },
        )
        theme = Code.objects.get(name="Open logs invite newcomers")
        assert theme.parent == tree["lifecycle"]
        edit = reverse("theme_edit", kwargs={"study_slug": study.slug, "ref": theme.public_id})
        assert client.get(edit).status_code == 200
        client.post(
            edit,
            {
                "name": "Open logs invite newcomers in",
                "definition": "A claim.",
                "research_questions": [design["rq2"].pk],
                "theme_status": "established",
                "version": theme.version,
            },
        )
        theme = fresh(theme)
        assert (theme.name, theme.theme_status) == ("Open logs invite newcomers in", "established")
        assert [rq.label for rq in theme.research_questions.all()] == ["RQ2"]


def _grow(study, lead, admin_user, n):
    """``n`` more themes with two codes each and consensus codings in a new transcript."""
    base = Code.objects.filter(study=study).count()
    category = code_create(actor=admin_user, study=study, name=f"Cat {base}", kind="category")
    transcript = ready_transcript(study, lead, "I9: " + "word " * 40 + "\n", code=f"P{base}")
    for i in range(n):
        theme = code_create(
            actor=admin_user, study=study, name=f"Theme {base}-{i}", kind="theme", parent=category
        )
        for j in range(2):
            code = code_create(
                actor=admin_user, study=study, name=f"Code {base}-{i}-{j}", parent=theme
            )
            _consensus(transcript, code, 4 + j, 10 + j, lead)


def test_board_query_count_does_not_grow(
    client_for, study, lead, admin_user, tree, django_assert_num_queries
):
    client = client_for(lead)
    url = reverse("themes", kwargs={"study_slug": study.slug})
    client.get(url)  # warm the session and the caches
    _grow(study, lead, admin_user, 2)
    # 18: the counts per (code, transcript) and, apart, each transcript's participant and case.
    with django_assert_num_queries(18) as small:
        assert client.get(url).status_code == 200
    _grow(study, lead, admin_user, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_menu_query_count_does_not_grow(
    client_for, study, lead, admin_user, tree, django_assert_num_queries
):
    client = client_for(lead)
    url = reverse("theme_menu", kwargs={"study_slug": study.slug, "ref": tree["logs"].public_id})
    client.get(url, headers={"HX-Request": "true"})  # warm the session and the caches
    _grow(study, lead, admin_user, 2)
    # 8: signing in and the member's access to the study (four, as on every page), the code,
    # every theme and category, its siblings and its further themes.
    with django_assert_num_queries(8) as small:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    _grow(study, lead, admin_user, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
