import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from workbench import audit
from workbench.models import AppendOnlyError, AuditEvent
from workbench.services import design as design_services

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger is PostgreSQL's; SQLite is only the try-it-out database",
)


def url(name, study):
    return reverse(name, kwargs={"study_slug": study.slug})


class TestAppendOnly:
    def test_app_cannot_change_or_delete_an_event(self, study):
        event = AuditEvent.objects.get(study=study, verb="study.create")
        event.verb = "forged"
        with pytest.raises(AppendOnlyError):
            event.save()
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(verb="forged")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        event.refresh_from_db()
        assert event.verb == "study.create"

    def test_admin_site_is_read_only(self, client, study):
        from tests.factories import UserFactory

        root = UserFactory(username="root", is_superuser=True, is_staff=True)
        client.force_login(root)
        event = AuditEvent.objects.get(study=study, verb="study.create")
        change = reverse("admin:workbench_auditevent_change", args=[event.pk])
        assert client.get(change).status_code == 200  # viewable
        client.post(change, {"verb": "forged"})
        delete = reverse("admin:workbench_auditevent_delete", args=[event.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        event.refresh_from_db()
        assert event.verb == "study.create"

    @postgres_only
    def test_database_rejects_update_and_delete(self, study):
        event_id = AuditEvent.objects.get(study=study, verb="study.create").pk
        for sql in (
            "UPDATE workbench_auditevent SET verb = 'forged' WHERE id = %s",
            "DELETE FROM workbench_auditevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event_id])
        assert AuditEvent.objects.get(pk=event_id).verb == "study.create"

    @postgres_only
    def test_deleting_a_study_with_history_is_impossible(self, study):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM workbench_auditevent WHERE study_id = %s", [study.pk])


class TestOneEventPerChange:
    def test_failed_write_leaves_no_event(self, study, lead):
        design_services.research_question_create(actor=lead, study=study, label="RQ1", text="a")
        before = AuditEvent.objects.count()
        with pytest.raises(ValidationError):
            design_services.research_question_create(actor=lead, study=study, label="rq1", text="b")
        assert AuditEvent.objects.count() == before

    def test_event_and_change_commit_together(self, study, lead, monkeypatch):
        def broken(**kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(audit, "record", broken)
        with pytest.raises(RuntimeError):
            design_services.research_question_create(actor=lead, study=study, label="RQ1", text="a")
        assert not study.research_questions.exists()

    def test_unchanged_save_records_nothing(self, study, lead):
        rq = design_services.research_question_create(
            actor=lead, study=study, label="RQ1", text="a"
        )
        design_services.research_question_update(
            actor=lead, rq=rq, version=1, label="RQ1", text="a"
        )
        assert not AuditEvent.objects.filter(verb="research_question.update").exists()


@pytest.fixture
def history(study, admin_user, lead, coder):
    """A trail with several actors, verbs and object types; one event backdated in SQL-free way."""
    design_services.research_question_create(actor=lead, study=study, label="RQ1", text="Where?")
    design_services.dimension_create(actor=lead, study=study, name="Stage", values=["pre", "post"])
    return study


HTMX = {"HX-Request": "true"}


class TestBrowsing:
    def test_lead_filters_by_actor_verb_and_type(self, client, history, lead):
        client.force_login(lead)

        def results(**filters):
            # The results fragment: the filter menus (which list every verb) are not in it.
            return client.get(url("audit_trail", history), filters, headers=HTMX).content.decode()

        page = results(actor="len")
        assert "research_question.create" in page and "role.grant" not in page
        page = results(verb="role.grant")
        assert "role.grant" in page and "research_question.create" not in page
        page = results(object_type="dimension_value")
        assert "2 events" in page and "Stage: pre" in page and "Stage:" in page

    def test_date_filter(self, client, history, lead):
        client.force_login(lead)
        today = timezone.localdate()
        tomorrow = today + timedelta(days=1)
        page = client.get(url("audit_trail", history), {"since": tomorrow}).content.decode()
        assert "No events match" in page
        page = client.get(
            url("audit_trail", history), {"until": today}, headers=HTMX
        ).content.decode()
        assert "research_question.create" in page

    def test_reversed_dates_get_a_message(self, client, history, lead):
        client.force_login(lead)
        today = timezone.localdate()
        page = client.get(
            url("audit_trail", history), {"since": today, "until": today - timedelta(days=2)}
        ).content.decode()
        assert "The end date is before the start date" in page

    def test_htmx_filter_returns_only_the_results(self, client, history, lead):
        client.force_login(lead)
        response = client.get(
            url("audit_trail", history),
            {"verb": "dimension.create"},
            headers={"HX-Request": "true"},
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="results"' in body and "1 event" in body

    def test_shows_before_and_after(self, client, history, lead):
        rq = history.research_questions.get()
        design_services.research_question_update(
            actor=lead, rq=rq, version=1, label="RQ1", text="Where now?"
        )
        client.force_login(lead)
        page = client.get(url("audit_trail", history), {"verb": "research_question.update"})
        body = page.content.decode()
        assert "<del>Where?</del>" in body and "<ins>Where now?</ins>" in body

    def test_csv_download_honours_filters(self, client, history, admin_user):
        client.force_login(admin_user)
        response = client.get(url("audit_csv", history), {"object_type": "research_question"})
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [row["verb"] for row in rows] == ["research_question.create"]
        assert rows[0]["actor"] == "lena"
        assert '"text": "Where?"' in rows[0]["after"]

    def test_csv_neutralises_spreadsheet_formulas(self, client, study, lead, admin_user):
        design_services.research_question_create(
            actor=lead, study=study, label="=HYPERLINK(1)", text="x"
        )
        client.force_login(admin_user)
        response = client.get(url("audit_csv", study), {"object_type": "research_question"})
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0]["object"] == "'=HYPERLINK(1)"

    def test_query_count_does_not_grow_with_events(
        self, client, study, lead, django_assert_num_queries
    ):
        client.force_login(lead)
        for n in range(3):
            design_services.research_question_create(
                actor=lead, study=study, label=f"A{n}", text="t"
            )
        client.get(url("audit_trail", study))
        # session, user, study, permissions, the layers the reader codes blind against (once
        # per read: vocabulary, page), filter vocabulary, count, page of events, the actors'
        # full names for the descriptions
        with django_assert_num_queries(10):
            client.get(url("audit_trail", study))
        for n in range(120):
            design_services.research_question_create(
                actor=lead, study=study, label=f"B{n}", text="t"
            )
        with django_assert_num_queries(10):
            page = client.get(url("audit_trail", study)).content.decode()
        assert "Page 1 of 3" in page


def test_events_of_other_studies_never_show(client, study, lead, outsider):
    client.force_login(lead)
    page = client.get(url("audit_trail", study)).content.decode()
    assert "oscar" not in page and "Someone else" not in page
