import pytest
from django.core.exceptions import ValidationError

from coding.models import Code, CodebookSettings, CodeKind, CodeStatus, CodeVersion
from coding.services import codebook as codebook_services
from tests.factories import DimensionFactory, DimensionValueFactory, give_roles
from workbench.models import AuditEvent, Study
from workbench.roles import Role


class TestCreate:
    def test_it_creates_a_code_with_version_and_audit_event(self, study, admin_user, code):
        assert code.status == CodeStatus.ACTIVE and code.origin == "deductive"
        assert code.colour.startswith("#") and len(code.colour) == 7
        [version] = code.versions.all()
        assert (version.number, version.change, version.changed_by) == (1, "create", admin_user)
        assert version.snapshot["definition"] == "How newcomers join the project."
        assert version.snapshot["dimension_values"] == ["Lifecycle stage: pre-training"]
        event = AuditEvent.objects.get(verb="code.create")
        assert event.after["name"] == "Onboarding" and event.object_id == code.public_id

    @pytest.mark.parametrize("name", ["onboarding", " ONBOARDING ", "Onboarding"])
    def test_it_refuses_a_duplicate_name_case_insensitively(self, study, admin_user, code, name):
        with pytest.raises(ValidationError) as exc:
            codebook_services.code_create(actor=admin_user, study=study, name=name)
        assert "already has a code" in str(exc.value)
        assert Code.objects.count() == 1

    def test_same_name_in_another_study_is_fine(self, study, code, outsider):
        other = Study.objects.get(name="Someone else's study")
        codebook_services.code_create(actor=outsider, study=other, name="Onboarding")
        assert Code.objects.filter(name="Onboarding").count() == 2

    @pytest.mark.parametrize("colour", ["red", "#12345", "#ggg000"])
    def test_it_refuses_a_bad_colour(self, study, admin_user, colour):
        with pytest.raises(ValidationError):
            codebook_services.code_create(actor=admin_user, study=study, name="X", colour=colour)
        assert not Code.objects.exists()

    def test_short_colour_is_expanded(self, study, admin_user):
        code = codebook_services.code_create(actor=admin_user, study=study, name="X", colour="#F0A")
        assert code.colour == "#ff00aa"

    def test_tree_rules(self, study, admin_user, code):
        category = codebook_services.code_create(
            actor=admin_user, study=study, name="Barriers", kind=CodeKind.CATEGORY
        )
        theme = codebook_services.code_create(
            actor=admin_user, study=study, name="Joining", kind=CodeKind.THEME, parent=category
        )
        child = codebook_services.code_create(
            actor=admin_user, study=study, name="Mentoring", parent=theme
        )
        assert child.parent == theme and theme.parent == category
        with pytest.raises(ValidationError, match="only be grouped under a theme"):
            codebook_services.code_create(
                actor=admin_user, study=study, name="Bad", parent=category
            )
        with pytest.raises(ValidationError, match="no parent"):
            codebook_services.code_create(
                actor=admin_user, study=study, name="Bad", kind=CodeKind.CATEGORY, parent=category
            )

    def test_another_studys_links_are_refused(self, study, admin_user, outsider):
        other = Study.objects.get(name="Someone else's study")
        value = DimensionValueFactory(dimension=DimensionFactory(study=other))
        with pytest.raises(ValidationError):
            codebook_services.code_create(
                actor=admin_user, study=study, name="X", dimension_values=[value]
            )
        assert not Code.objects.exists()


class TestUpdate:
    def _update(self, code, actor, **changes):
        values = {
            "name": code.name,
            "definition": code.definition,
            "when_to_use": code.when_to_use,
            "when_not_to_use": code.when_not_to_use,
            "example": code.example,
            "colour": code.colour,
            "parent": code.parent,
            "guide_questions": list(code.guide_questions.all()),
            "dimension_values": list(code.dimension_values.all()),
        } | changes
        return codebook_services.code_update(actor=actor, code=code, version=code.version, **values)

    def test_it_reports_each_kind_of_change(self, code, admin_user):
        result = self._update(
            code, admin_user, name="Joining", definition="How people join.", colour="#000000"
        )
        assert result.changes == ["rename", "redefine", "recolour"]
        latest = code.versions.order_by("-number").first()
        assert latest.number == 2 and latest.changes == ["rename", "redefine", "recolour"]
        assert latest.snapshot["name"] == "Joining"
        event = AuditEvent.objects.filter(verb="code.update").get()
        assert event.before == {
            "name": "Onboarding",
            "definition": "How newcomers join the project.",
            "colour": code.colour,
        }
        assert event.after["name"] == "Joining"
        assert result.code.version == code.version + 1

    def test_no_change_writes_nothing(self, code, admin_user):
        result = self._update(code, admin_user)
        assert result.changes == []
        assert code.versions.count() == 1
        assert not AuditEvent.objects.filter(verb="code.update").exists()

    def test_relinking_is_a_change(self, code, admin_user):
        result = self._update(code, admin_user, dimension_values=[], guide_questions=[])
        assert result.changes == ["relink"]
        assert not result.code.dimension_values.exists()

    def test_flag_codings_is_kept_with_a_redefinition(self, code, admin_user):
        self._update(code, admin_user, definition="Narrower.", flag_codings=True)
        version = code.versions.order_by("-number").first()
        assert version.flag_codings is True
        assert AuditEvent.objects.get(verb="code.update").after["flag_codings"] is True

    def test_flag_codings_without_a_redefinition_is_ignored(self, code, admin_user):
        self._update(code, admin_user, name="Renamed", flag_codings=True)
        assert code.versions.order_by("-number").first().flag_codings is False

    def test_stale_rename_is_refused_and_changes_nothing(self, code, admin_user):
        stale_version = code.version
        self._update(code, admin_user, name="First rename")
        with pytest.raises(ValidationError, match="changed by someone else"):
            codebook_services.code_update(
                actor=admin_user,
                code=code,
                version=stale_version,
                name="Second rename",
                definition=code.definition,
                when_to_use="",
                when_not_to_use="",
                example="",
                colour=code.colour,
                parent=None,
            )
        code.refresh_from_db()
        assert code.name == "First rename"
        assert code.versions.count() == 2

    def test_rename_to_an_existing_name_is_refused(self, study, code, admin_user):
        codebook_services.code_create(actor=admin_user, study=study, name="Leaving")
        with pytest.raises(ValidationError, match="already has a code"):
            self._update(code, admin_user, name="leaving")

    def test_move_under_a_theme(self, study, code, admin_user):
        theme = codebook_services.code_create(actor=admin_user, study=study, name="T", kind="theme")
        result = self._update(code, admin_user, parent=theme)
        assert result.changes == ["move"]
        assert code.versions.order_by("-number").first().snapshot["parent"] == "T"


class TestStatus:
    def test_retire_keeps_the_code_and_reactivate_brings_it_back(self, code, admin_user):
        retired = codebook_services.code_retire(actor=admin_user, code=code, version=code.version)
        assert Code.objects.filter(pk=code.pk, status="retired").exists()
        back = codebook_services.code_reactivate(
            actor=admin_user, code=retired, version=retired.version
        )
        assert back.status == "active"
        assert [v.change for v in code.versions.all()] == ["create", "retire", "reactivate"]
        assert list(
            AuditEvent.objects.filter(verb__startswith="code.").values_list("verb", flat=True)
        ) == ["code.reactivate", "code.retire", "code.create"]

    def test_retiring_twice_is_refused(self, code, admin_user):
        code = codebook_services.code_retire(actor=admin_user, code=code, version=code.version)
        with pytest.raises(ValidationError, match="already retired"):
            codebook_services.code_retire(actor=admin_user, code=code, version=code.version)

    def test_stale_retire_is_refused(self, code, admin_user):
        with pytest.raises(ValidationError, match="someone else"):
            codebook_services.code_retire(
                actor=admin_user, code=code, version=code.version - 1 or 99
            )
        code.refresh_from_db()
        assert code.status == "active"

    def test_codes_cannot_be_deleted_while_they_have_children(self, study, admin_user, code):
        # Codings will reference codes with PROTECT too; the tree already does.
        from django.db.models import ProtectedError

        theme = codebook_services.code_create(actor=admin_user, study=study, name="T", kind="theme")
        codebook_services.code_create(actor=admin_user, study=study, name="C", parent=theme)
        with pytest.raises(ProtectedError):
            theme.delete()


class TestInductivePolicy:
    def test_coder_code_is_pending_when_approval_is_required(self, study, admin_user, coder):
        codebook_services.codebook_settings_update(
            actor=admin_user, study=study, version=None, inductive_codes="pending"
        )
        code = codebook_services.code_create(
            actor=coder, study=study, name="New", origin="inductive"
        )
        assert code.status == CodeStatus.PENDING
        approved = codebook_services.code_approve(actor=admin_user, code=code, version=code.version)
        assert approved.status == "active"
        assert approved.versions.order_by("-number").first().change == "approve"

    def test_admin_codes_need_no_approval(self, study, admin_user):
        codebook_services.codebook_settings_update(
            actor=admin_user, study=study, version=None, inductive_codes="pending"
        )
        code = codebook_services.code_create(
            actor=admin_user, study=study, name="N", origin="inductive"
        )
        assert code.status == "active"

    def test_allowed_by_default(self, study, coder):
        code = codebook_services.code_create(actor=coder, study=study, name="N", origin="inductive")
        assert code.status == "active"

    def test_settings_change_is_audited_and_versioned(self, study, admin_user):
        s = codebook_services.codebook_settings_update(
            actor=admin_user, study=study, version=None, inductive_codes="pending"
        )
        assert s.version == 2
        assert AuditEvent.objects.get(verb="codebook_settings.update").after == {
            "inductive_codes": "pending"
        }
        with pytest.raises(ValidationError):
            codebook_services.codebook_settings_update(
                actor=admin_user, study=study, version=1, inductive_codes="allowed"
            )
        assert CodebookSettings.objects.get().inductive_codes == "pending"

    def test_lead_is_not_a_codebook_manager(self, study, admin_user, lead):
        give_roles(study, lead, Role.LEAD)
        codebook_services.codebook_settings_update(
            actor=admin_user, study=study, version=None, inductive_codes="pending"
        )
        code = codebook_services.code_create(actor=lead, study=study, name="N", origin="inductive")
        assert code.status == "pending"


class TestSeeding:
    def test_one_suggestion_per_guide_question(self, study, design):
        [suggestion] = codebook_services.suggest_codes_from_guide(study)
        assert suggestion.guide_question_ids == [design["gq"].pk]
        assert suggestion.name and "Q1" in suggestion.definition
        assert not suggestion.exists

    def test_guide_question_with_a_code_is_marked(self, study, design, code):
        [suggestion] = codebook_services.suggest_codes_from_guide(study)
        assert suggestion.exists

    def test_dimension_combinations(self, study, design):
        kinds = DimensionFactory(study=study, name="Collaboration type", position=2)
        for label in ("model", "data", "software"):
            DimensionValueFactory(dimension=kinds, label=label)
        suggestions = codebook_services.suggest_codes_from_dimensions(
            study, [design["dimension"].pk, kinds.pk]
        )
        assert len(suggestions) == 6
        assert suggestions[0].name == "pre-training × model"
        assert len(suggestions[0].dimension_value_ids) == 2

    def test_another_studys_dimension_is_refused(self, study, design, outsider):
        other = DimensionFactory(study=Study.objects.get(name="Someone else's study"))
        with pytest.raises(ValidationError):
            codebook_services.suggest_codes_from_dimensions(study, [other.pk])

    def test_bulk_create_skips_existing_names(self, study, design, admin_user, code):
        suggestions = codebook_services.suggest_codes_from_dimensions(
            study, [design["dimension"].pk]
        )
        suggestions.append(codebook_services.Suggestion(name="ONBOARDING"))
        suggestions.append(codebook_services.Suggestion(name="pre-training"))
        report = codebook_services.codes_create_bulk(
            actor=admin_user, study=study, suggestions=suggestions
        )
        assert [c.name for c in report.created] == ["pre-training", "post-release"]
        assert report.skipped == [
            ("ONBOARDING", "already in the codebook"),
            ("pre-training", "already in the codebook"),
        ]
        created = Code.objects.get(name="post-release")
        assert [v.label for v in created.dimension_values.all()] == ["post-release"]
        assert CodeVersion.objects.filter(code=created, note="seeded").exists()
        assert AuditEvent.objects.filter(verb="codebook.seed").count() == 1
