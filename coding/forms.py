from django import forms

from coding.models import (
    Code,
    CodeKind,
    CodeOrigin,
    CodeStatus,
    CodingMode,
    InductivePolicy,
    NoteKind,
    RoundKind,
    SaturationVerdict,
    ThemeStatus,
)
from coding.selectors.codebook import parent_choices
from coding.selectors.notes import linkable_disagreements, linkable_transcripts
from transcripts.selectors.transcripts import analysable_transcripts, in_interview_order
from workbench.forms import VersionedForm
from workbench.models import Dimension, DimensionValue, GuideQuestion, ResearchQuestion
from workbench.selectors.members import member_users


class ValueChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.dimension.name}: {obj.label}"


class GuideChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class CodeForm(VersionedForm):
    wide_fields = ("guide_questions", "dimension_values", "flag_codings")
    name = forms.CharField(max_length=200)
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    when_to_use = forms.CharField(
        label="When to use", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    when_not_to_use = forms.CharField(
        label="When not to use", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    example = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        required=False,
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": "Give a colour as #rrggbb."},
    )
    kind = forms.ChoiceField(
        choices=CodeKind.choices,
        initial=CodeKind.CODE,
        help_text="Codes are applied to text; themes group codes; categories group themes.",
    )
    origin = forms.ChoiceField(choices=CodeOrigin.choices, initial=CodeOrigin.DEDUCTIVE)
    parent = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Grouped under",
        empty_label="(top level)",
        to_field_name="public_id",  # codes are named by public id (workbench/public_ids.py)
    )
    guide_questions = GuideChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Guide questions"
    )
    dimension_values = ValueChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Dimension values"
    )
    flag_codings = forms.BooleanField(
        required=False,
        label="Flag this code's existing codings to re-check",
        help_text="Offered because a changed definition may no longer fit what was coded.",
    )

    during = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Prompted while coding",
        empty_label="(no interview: e.g. a team decision)",
        help_text="Saturation counts the change on this interview. Left empty, the interview "
        "you are coding now, if any.",
    )

    def __init__(self, *args, study, code=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["during"].queryset = in_interview_order(analysable_transcripts(study))
        self.fields["during"].label_from_instance = lambda t: (
            f"{t.title} ({t.interview_date:%d %b %Y})" if t.interview_date else t.title
        )
        self.fields["guide_questions"].queryset = GuideQuestion.objects.filter(study=study)
        self.fields["dimension_values"].queryset = (
            DimensionValue.objects.filter(dimension__study=study)
            .select_related("dimension")
            .order_by("dimension__position", "position", "id")
        )
        if code is None:
            del self.fields["flag_codings"], self.fields["during"]
            # Any theme or category may be chosen; the service checks the pairing with the kind.
            self.fields["parent"].queryset = Code.objects.filter(
                study=study, kind__in=[CodeKind.THEME, CodeKind.CATEGORY]
            )
        else:
            del self.fields["kind"], self.fields["origin"]
            self.fields["parent"].queryset = parent_choices(study, code.kind, exclude_pk=code.pk)
            if code.kind == CodeKind.CATEGORY:
                del self.fields["parent"]


class CodebookFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or definition"}),
    )
    origin = forms.ChoiceField(required=False, choices=[("", "Any origin"), *CodeOrigin.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *CodeStatus.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *CodeKind.choices])

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension_value"] = forms.ModelChoiceField(
            queryset=DimensionValue.objects.filter(dimension__study=study)
            .select_related("dimension")
            .order_by("dimension__position", "position", "id"),
            required=False,
            empty_label="Any dimension value",
            label="Dimension value",
        )
        self.fields["dimension_value"].label_from_instance = lambda obj: (
            f"{obj.dimension.name}: {obj.label}"
        )


class CodebookSettingsForm(VersionedForm):
    inductive_codes = forms.ChoiceField(
        choices=InductivePolicy.choices,
        widget=forms.RadioSelect,
        label="Inductive codes created while coding",
    )


class CodebookImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (columns: name, definition, when_to_use, when_not_to_use, example, colour,"
        " origin, parent; optional kind, status, guid) or REFI-QDA .qdc / .qdpx."
    )


class DimensionPickForm(forms.Form):
    dimensions = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose one or more dimensions."},
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimensions"].queryset = Dimension.objects.filter(study=study)


class SuggestionForm(forms.Form):
    include = forms.BooleanField(required=False)
    name = forms.CharField(max_length=200, required=False)
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    when_to_use = forms.CharField(
        label="When to use", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    guide_questions = forms.CharField(widget=forms.HiddenInput, required=False)
    dimension_values = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        if data.get("include") and not (data.get("name") or "").strip():
            self.add_error("name", "Give the code a name, or untick it.")
        for key in ("guide_questions", "dimension_values"):
            try:
                data[key] = [int(pk) for pk in (data.get(key) or "").split(",") if pk]
            except ValueError:
                self.add_error(None, "The form was altered; reload the page.")
        return data


SuggestionFormSet = forms.formset_factory(SuggestionForm, extra=0, max_num=500, absolute_max=500)


class AssignmentForm(forms.Form):
    primary_coder = forms.TypedChoiceField(coerce=int, label="Primary coder")
    second_coder = forms.TypedChoiceField(coerce=int, label="Second coder")
    mode = forms.ChoiceField(choices=CodingMode.choices, widget=forms.RadioSelect)

    def __init__(self, *args, coders, **kwargs):
        """``coders``: a list of users, read once for every form on the page."""
        super().__init__(*args, **kwargs)
        self.coders = {user.pk: user for user in coders}
        choices = [("", "—")] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in coders
        ]
        for name in ("primary_coder", "second_coder"):
            self.fields[name].choices = choices

    def clean(self):
        data = super().clean()
        for name in ("primary_coder", "second_coder"):
            if name in data:
                data[name] = self.coders[data[name]]
        if data.get("primary_coder") and data.get("primary_coder") == data.get("second_coder"):
            self.add_error("second_coder", "The second coder must be someone else.")
        return data


class TranscriptChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.participant.code}: {obj.title}"


class CodeChoices(forms.ModelMultipleChoiceField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="public_id", **kwargs)

    def label_from_instance(self, obj):
        return obj.name if obj.status != CodeStatus.RETIRED else f"{obj.name} (retired)"


class DisagreementChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        t = obj.reconciliation.transcript
        return f"{t.participant.code}: {t.title} — #{obj.number} ({obj.get_kind_display()})"


class UserChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class DebriefNoteForm(VersionedForm):
    wide_fields = ("body", "decisions", "attendees", "transcripts", "codes", "disagreements")
    kind = forms.ChoiceField(
        choices=NoteKind.choices,
        initial=NoteKind.DEBRIEF,
        help_text="A tentative synthesis records what the analysis suggests so far, "
        "e.g. after interview I10.",
    )
    held_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    title = forms.CharField(max_length=200)
    attendees = UserChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    other_attendees = forms.CharField(
        max_length=300,
        required=False,
        label="Other attendees",
        help_text="People without an account here, e.g. an external peer debriefer.",
    )
    body = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    decisions = forms.CharField(
        label="Decisions taken",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="One per line, e.g. “Code ‘Compute as a gate’ redefined: access, not cost”.",
    )
    transcripts = TranscriptChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    codes = CodeChoices(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    disagreements = DisagreementChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Disagreements discussed; only leads and reviewers see these links.",
    )

    def __init__(self, *args, study, with_disagreements: bool, codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = member_users(study)
        self.fields["transcripts"].queryset = linkable_transcripts(study)
        # ``codes``: the ones the viewer may see (a blind colleague's inductive codes are not).
        self.fields["codes"].queryset = Code.objects.filter(study=study) if codes is None else codes
        if with_disagreements:
            self.fields["disagreements"].queryset = linkable_disagreements(study)
        else:
            del self.fields["disagreements"]


class MemoForm(VersionedForm):
    wide_fields = ("body", "transcripts")
    title = forms.CharField(max_length=200)
    code = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label="(none: a memo on the analysis at large)",
        help_text="The code this memo is about.",
    )
    body = forms.CharField(label="Memo", widget=forms.Textarea(attrs={"rows": 4}))
    transcripts = TranscriptChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, study, codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].queryset = Code.objects.filter(study=study) if codes is None else codes
        self.fields["transcripts"].queryset = linkable_transcripts(study)


class NotesFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, label="Kind of note", choices=[("", "Every kind"), *NoteKind.choices]
    )
    code = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Code",
        empty_label="Any code",
        to_field_name="public_id",
    )

    def __init__(self, *args, study, codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].queryset = Code.objects.filter(study=study) if codes is None else codes


class RoundForm(forms.Form):
    label = forms.CharField(
        max_length=200,
        help_text="What this moment is, e.g. “Before reconciliation, I1–I5”.",
    )
    kind = forms.ChoiceField(choices=RoundKind.choices, initial=RoundKind.BEFORE_RECONCILIATION)


class SynthesisChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.held_on.day} {obj.held_on:%b %Y} · {obj.title}"


class SaturationDecisionForm(forms.Form):
    """A lead's saturation decision; the parameters it rests on travel as hidden fields."""

    verdict = forms.ChoiceField(
        label="Decision", choices=SaturationVerdict.choices, widget=forms.RadioSelect
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the team saw and why it decided so: this goes into the methods section.",
    )
    synthesis = SynthesisChoiceField(
        queryset=None,
        required=False,
        to_field_name="public_id",
        label="Tentative synthesis it rests on",
        empty_label="(none)",
        help_text="A note of kind “tentative synthesis” on the Notes page.",
    )

    def __init__(self, *args, syntheses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["synthesis"].queryset = syntheses


class MergeTargetForm(forms.Form):
    """Step one of a merge: into which code (or into a new one)."""

    into = forms.ChoiceField(label="Merge with")
    new_name = forms.CharField(
        label="Name of a new code (optional)", max_length=200, required=False,
        help_text="Leave empty to merge into the code chosen above. With a name, both codes "
        "are merged into a new code of that name and both are retired.",
    )  # fmt: skip

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].choices = [("", "— choose a code —")] + [
            (code.public_id, code.name) for code in choices
        ]


class DefinitionDraftForm(forms.Form):
    """The merged (or new) code's definition, edited before confirming."""

    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    when_to_use = forms.CharField(
        label="When to use", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    when_not_to_use = forms.CharField(
        label="When not to use", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    example = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class SplitForm(DefinitionDraftForm):
    name = forms.CharField(label="Name of the new code", max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput)
    field_order = ["name", "definition", "when_to_use", "when_not_to_use", "example"]


class ThemeForm(forms.Form):
    """A theme (its title written as a claim) or a category, on the theme board."""

    name = forms.CharField(
        label="Title",
        max_length=200,
        help_text="For a theme, write the claim, e.g. “Shared training logs lower the cost of "
        "experimenting”.",
    )
    definition = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    research_questions = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    dimension_values = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    theme_status = forms.ChoiceField(label="Status", choices=ThemeStatus.choices)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["research_questions"].queryset = ResearchQuestion.objects.filter(study=study)
        values = DimensionValue.objects.filter(dimension__study=study).select_related("dimension")
        self.fields["dimension_values"].queryset = values.order_by(
            "dimension__position", "position", "id"
        )
        self.fields["dimension_values"].label_from_instance = lambda value: (
            f"{value.dimension.name}: {value.label}"
        )


class ThemeCreateForm(ThemeForm):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[(CodeKind.THEME, "Theme"), (CodeKind.CATEGORY, "Category")],
        initial=CodeKind.THEME,
    )
    parent = forms.ModelChoiceField(
        queryset=None, required=False, label="In category", empty_label="No category yet"
    )

    field_order = ["kind", "name", "definition", "parent", "research_questions"]

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, study=study, **kwargs)
        self.fields["parent"].queryset = Code.objects.filter(
            study=study, kind=CodeKind.CATEGORY
        ).exclude(status=CodeStatus.RETIRED)
        del self.fields["version"]

    def clean(self):
        data = super().clean()
        if data.get("kind") == CodeKind.CATEGORY and data.get("parent"):
            self.add_error("parent", "A category sits at the top: it goes into no category.")
        return data
