import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import ResearchQuestionFactory
from workbench.models import (
    AuditEvent,
    Dimension,
    DimensionValue,
    GuideQuestion,
    ResearchQuestion,
    Study,
)
from workbench.services import design as design_services

HTMX = {"HX-Request": "true"}


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


class TestResearchQuestions:
    def test_lead_adds_a_research_question_without_javascript(self, as_lead, study, design):
        response = as_lead.post(
            url("design_item_create", study, kind="rq"),
            {"new-rq-label": "RQ3", "new-rq-text": "How are projects governed?"},
        )
        rq = ResearchQuestion.objects.get(study=study, label="RQ3")
        assert response.status_code == 302
        assert response.url == url("design", study) + f"#rq-{rq.pk}"
        assert rq.position == 3
        event = AuditEvent.objects.get(verb="research_question.create")
        assert event.after == {"label": "RQ3", "text": "How are projects governed?", "position": 3}
        assert event.actor.username == "lena"

    def test_htmx_add_returns_the_design_fragment_with_the_new_item(self, as_lead, study, design):
        response = as_lead.post(
            url("design_item_create", study, kind="rq"),
            {"new-rq-label": "RQ3", "new-rq-text": "How are projects governed?"},
            headers=HTMX,
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body and 'id="design"' in body
        assert "How are projects governed?" in body
        rq = ResearchQuestion.objects.get(label="RQ3")
        assert f'data-focus="rq-{rq.pk}"' in body

    @pytest.mark.parametrize("label", ["RQ1", "rq1", " RQ1 "])
    def test_duplicate_label_is_refused_next_to_the_field(self, as_lead, study, design, label):
        response = as_lead.post(
            url("design_item_create", study, kind="rq"),
            {"new-rq-label": label, "new-rq-text": "Again"},
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "already used by another research question" in body
        assert ResearchQuestion.objects.filter(study=study).count() == 2
        assert not AuditEvent.objects.filter(verb="research_question.create").exists()

    def test_same_label_in_another_study_is_fine(self, study, design, outsider):
        other = Study.objects.get(name="Someone else's study")
        design_services.research_question_create(actor=outsider, study=other, label="RQ1", text="x")
        assert ResearchQuestion.objects.filter(label="RQ1").count() == 2

    def test_inline_edit_form_fragment(self, as_lead, study, design):
        rq = design["rq1"]
        response = as_lead.get(url("design_item_edit", study, kind="rq", pk=rq.pk), headers=HTMX)
        body = response.content.decode()
        assert "<html" not in body
        assert f'id="rq-{rq.pk}"' in body and f'name="rq-{rq.pk}-label"' in body
        assert f'value="{rq.version}"' in body

    def test_edit_page_without_javascript_shows_the_form_in_place(self, as_lead, study, design):
        rq = design["rq1"]
        response = as_lead.get(url("design_item_edit", study, kind="rq", pk=rq.pk))
        body = response.content.decode()
        assert "<html" in body and f'name="rq-{rq.pk}-text"' in body

    def test_inline_edit_saves_and_records_before_and_after(self, as_lead, study, design):
        rq = design["rq1"]
        old_text = rq.text
        response = as_lead.post(
            url("design_item_edit", study, kind="rq", pk=rq.pk),
            {
                f"rq-{rq.pk}-label": "RQ1",
                f"rq-{rq.pk}-text": "Sharper wording",
                f"rq-{rq.pk}-version": 1,
            },
            headers=HTMX,
        )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#design"
        assert "Sharper wording" in response.content.decode()
        rq.refresh_from_db()
        assert (rq.text, rq.version) == ("Sharper wording", 2)
        event = AuditEvent.objects.get(verb="research_question.update")
        assert event.before == {"text": old_text}
        assert event.after == {"text": "Sharper wording"}

    def test_stale_edit_is_refused_and_changes_nothing(self, as_lead, study, design, lead):
        rq = design["rq1"]
        design_services.research_question_update(
            actor=lead, rq=rq, version=1, label="RQ1", text="First"
        )
        response = as_lead.post(
            url("design_item_edit", study, kind="rq", pk=rq.pk),
            {f"rq-{rq.pk}-label": "RQ1", f"rq-{rq.pk}-text": "Second", f"rq-{rq.pk}-version": 1},
            headers=HTMX,
        )
        body = response.content.decode()
        assert "changed by someone else" in body
        assert "HX-Retarget" not in response
        rq.refresh_from_db()
        assert rq.text == "First"

    def test_edit_to_duplicate_label_is_refused(self, as_lead, study, design):
        rq2 = design["rq2"]
        response = as_lead.post(
            url("design_item_edit", study, kind="rq", pk=rq2.pk),
            {f"rq-{rq2.pk}-label": "rq1", f"rq-{rq2.pk}-text": "x", f"rq-{rq2.pk}-version": 1},
        )
        assert "already used by another research question" in response.content.decode()
        rq2.refresh_from_db()
        assert rq2.label == "RQ2"

    def test_edit_of_deleted_item_is_404(self, as_lead, study, design, lead):
        rq = design["rq2"]
        design_services.design_item_delete(actor=lead, study=study, obj=rq, version=1)
        response = as_lead.post(
            url("design_item_edit", study, kind="rq", pk=rq.pk),
            {f"rq-{rq.pk}-label": "RQ2", f"rq-{rq.pk}-text": "x", f"rq-{rq.pk}-version": 1},
        )
        assert response.status_code == 404

    def test_move_and_delete(self, as_lead, study, design):
        rq1, rq2 = design["rq1"], design["rq2"]
        as_lead.post(url("design_item_move", study, kind="rq", pk=rq2.pk), {"direction": "up"})
        assert list(study.research_questions.values_list("label", flat=True)) == ["RQ2", "RQ1"]
        as_lead.post(url("design_item_delete", study, kind="rq", pk=rq1.pk), {"version": 1})
        assert list(study.research_questions.values_list("label", flat=True)) == ["RQ2"]
        deleted = AuditEvent.objects.get(verb="research_question.delete")
        assert deleted.before["label"] == "RQ1"
        assert deleted.before["guide_questions"] == [str(design["gq"])]

    def test_stale_delete_is_refused(self, as_lead, study, design, lead):
        rq = design["rq1"]
        design_services.research_question_update(
            actor=lead, rq=rq, version=1, label="RQ1", text="New"
        )
        response = as_lead.post(
            url("design_item_delete", study, kind="rq", pk=rq.pk), {"version": 1}, follow=True
        )
        assert "changed by someone else" in response.content.decode()
        assert ResearchQuestion.objects.filter(pk=rq.pk).exists()

    def test_move_past_the_end_changes_nothing(self, study, design, lead):
        design_services.design_item_move(actor=lead, study=study, obj=design["rq1"], direction="up")
        assert list(study.research_questions.values_list("label", flat=True)) == ["RQ1", "RQ2"]
        assert not AuditEvent.objects.filter(verb="research_question.move").exists()


class TestGuideQuestions:
    def test_guide_question_links_to_research_questions(self, as_lead, study, design):
        rq1, rq2 = design["rq1"], design["rq2"]
        as_lead.post(
            url("design_item_create", study, kind="guide"),
            {
                "new-guide-text": "How did you start?",
                "new-guide-research_questions": [rq1.pk, rq2.pk],
            },
        )
        gq = GuideQuestion.objects.get(text="How did you start?")
        assert set(gq.research_questions.all()) == {rq1, rq2}
        event = AuditEvent.objects.get(verb="guide_question.create")
        assert event.after["research_questions"] == ["RQ1", "RQ2"]

    def test_guide_question_cannot_point_at_another_studys_rq(
        self, as_lead, study, design, outsider
    ):
        other = Study.objects.get(name="Someone else's study")
        foreign = ResearchQuestionFactory(study=other, label="RQ9")
        response = as_lead.post(
            url("design_item_create", study, kind="guide"),
            {"new-guide-text": "Sneaky?", "new-guide-research_questions": [foreign.pk]},
        )
        assert "Select a valid choice" in response.content.decode()
        assert not GuideQuestion.objects.filter(text="Sneaky?").exists()

    def test_service_also_refuses_another_studys_rq(self, study, design, lead, outsider):
        other = Study.objects.get(name="Someone else's study")
        foreign = ResearchQuestionFactory(study=other, label="RQ9")
        with pytest.raises(ValidationError):
            design_services.guide_question_create(
                actor=lead, study=study, text="x", research_questions=[foreign]
            )
        assert not GuideQuestion.objects.filter(text="x").exists()
        assert not AuditEvent.objects.filter(verb="guide_question.create").exists()

    def test_a_guide_question_must_serve_an_rq(self, as_lead, study, design):
        response = as_lead.post(
            url("design_item_create", study, kind="guide"), {"new-guide-text": "Orphan?"}
        )
        assert "Link the question to at least one research question" in response.content.decode()

    def test_editing_links_records_the_change(self, as_lead, study, design):
        gq, rq2 = design["gq"], design["rq2"]
        as_lead.post(
            url("design_item_edit", study, kind="guide", pk=gq.pk),
            {
                f"guide-{gq.pk}-text": gq.text,
                f"guide-{gq.pk}-research_questions": [rq2.pk],
                f"guide-{gq.pk}-version": 1,
            },
        )
        assert list(gq.research_questions.all()) == [rq2]
        event = AuditEvent.objects.get(verb="guide_question.update")
        assert (event.before, event.after) == (
            {"research_questions": ["RQ1"]},
            {"research_questions": ["RQ2"]},
        )


class TestDimensions:
    def test_dimension_with_values_in_one_step(self, as_lead, study):
        as_lead.post(
            url("design_item_create", study, kind="dimension"),
            {
                "new-dimension-name": "Polarity",
                "new-dimension-values": "on-ramp\n\nchallenge\n",
            },
        )
        dimension = Dimension.objects.get(study=study, name="Polarity")
        assert list(dimension.values.values_list("label", flat=True)) == ["on-ramp", "challenge"]

    def test_duplicate_values_in_the_list_are_refused(self, as_lead, study):
        response = as_lead.post(
            url("design_item_create", study, kind="dimension"),
            {"new-dimension-name": "Polarity", "new-dimension-values": "on-ramp\nOn-ramp"},
        )
        assert "listed twice" in response.content.decode()
        assert not Dimension.objects.filter(name="Polarity").exists()

    def test_value_added_renamed_and_kept_unique(self, as_lead, study, design):
        dimension, value = design["dimension"], design["value"]
        as_lead.post(
            url("dimension_value_create", study, parent_id=dimension.pk),
            {f"new-value-{dimension.pk}-label": "post-training"},
        )
        assert dimension.values.filter(label="post-training").exists()
        response = as_lead.post(
            url("design_item_edit", study, kind="value", pk=value.pk),
            {f"value-{value.pk}-label": "Post-Release", f"value-{value.pk}-version": 1},
        )
        assert "already has the value" in response.content.decode()
        as_lead.post(
            url("design_item_edit", study, kind="value", pk=value.pk),
            {f"value-{value.pk}-label": "pretraining", f"value-{value.pk}-version": 1},
        )
        value.refresh_from_db()
        # Renaming keeps the value's identity (codes tagged with it later stay tagged).
        assert value.label == "pretraining"

    def test_value_of_another_studys_dimension_is_404(self, as_lead, study, design, outsider):
        other = Study.objects.get(name="Someone else's study")
        foreign = design_services.dimension_create(
            actor=outsider, study=other, name="Other", values=["a"]
        )
        response = as_lead.post(
            url("dimension_value_create", study, parent_id=foreign.pk),
            {f"new-value-{foreign.pk}-label": "b"},
        )
        assert response.status_code == 404
        assert not DimensionValue.objects.filter(label="b").exists()

    def test_deleting_a_dimension_records_its_values(self, study, design, lead):
        design_services.design_item_delete(
            actor=lead, study=study, obj=design["dimension"], version=1
        )
        event = AuditEvent.objects.get(verb="dimension.delete")
        assert event.before["values"] == ["pre-training", "post-release"]
        assert not DimensionValue.objects.exists()


def test_coder_sees_the_design_without_edit_controls(client, study, design, coder):
    client.force_login(coder)
    body = client.get(url("design", study)).content.decode()
    assert design["rq1"].text in body
    assert "Add a research question" not in body and ">Edit<" not in body


def test_design_page_query_count_does_not_grow(client, study, lead, django_assert_num_queries):
    client.force_login(lead)
    for n in range(1, 4):
        design_services.research_question_create(actor=lead, study=study, label=f"RQ{n}", text="t")
    design_services.dimension_create(actor=lead, study=study, name="Stage", values=["a", "b"])
    design_services.guide_question_create(
        actor=lead, study=study, text="Q0", research_questions=study.research_questions.all()
    )

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("design", study)).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    rqs = list(study.research_questions.all())
    for n in range(4, 30):
        design_services.guide_question_create(
            actor=lead, study=study, text=f"Q{n}", research_questions=rqs
        )
        design_services.research_question_create(actor=lead, study=study, label=f"RQ{n}", text="t")
    for n in range(5):
        design_services.dimension_create(
            actor=lead, study=study, name=f"D{n}", values=["x", "y", "z"]
        )
    # session, user, study, permissions, rqs, guide questions, their rqs, dimensions, values,
    # and the rq choices of the "add a guide question" form
    assert small == 10
    with django_assert_num_queries(10):
        client.get(url("design", study))


def test_failed_multi_step_write_changes_nothing(study, lead):
    # The dimension is written first, then its values; the duplicate value must undo it all.
    with pytest.raises(ValidationError):
        design_services.dimension_create(
            actor=lead, study=study, name="Stage", values=["pre", "PRE"]
        )
    assert not Dimension.objects.filter(study=study).exists()
    assert not AuditEvent.objects.filter(verb__startswith="dimension").exists()


class TestCancelRestoresOneRow:
    def test_row_fragment_is_just_that_item(self, as_lead, study, design):
        rq = design["rq2"]
        response = as_lead.get(url("design_item", study, kind="rq", pk=rq.pk), headers=HTMX)
        body = response.content.decode()
        assert body.count('class="item"') == 1
        assert f'id="rq-{rq.pk}"' in body and rq.text in body
        assert f'data-focus="rq-{rq.pk}"' in body
        assert design["rq1"].text not in body

    def test_guide_row_keeps_its_number(self, as_lead, study, design, lead):
        second = design_services.guide_question_create(
            actor=lead, study=study, text="Second?", research_questions=[design["rq1"]]
        )
        body = as_lead.get(
            url("design_item", study, kind="guide", pk=second.pk), headers=HTMX
        ).content.decode()
        assert ">Q2<" in body

    def test_without_javascript_it_is_the_design_page(self, as_lead, study, design):
        rq = design["rq1"]
        response = as_lead.get(url("design_item", study, kind="rq", pk=rq.pk))
        assert response.status_code == 302
        assert response.url == url("design", study) + f"#rq-{rq.pk}"

    def test_a_coder_gets_the_row_without_controls(self, client, study, design, coder):
        client.force_login(coder)
        body = client.get(
            url("design_item", study, kind="rq", pk=design["rq1"].pk), headers=HTMX
        ).content.decode()
        assert design["rq1"].text in body and ">Edit<" not in body
