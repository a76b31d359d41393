from django import forms
from django.utils import timezone

from transcripts.models import (
    Attribute,
    AttributeKind,
    AttributeTarget,
    ConsentUse,
    InterviewMode,
    TranscriptStatus,
)
from workbench.forms import VersionedForm


class _ListField(forms.Field):
    """The ticked boxes, as posted."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        return [item for item in value or [] if item != ""]


def attribute_field(attribute: Attribute) -> forms.Field:
    """A form field for one attribute, typed by its kind in the browser.

    The field passes on what is posted; ``transcripts.attributes.clean_value`` (run by the
    services) is the one judge of a value, so the pages and every other caller get the same
    messages.
    """
    label, kind = attribute.name, attribute.kind
    choices = [(option, option) for option in attribute.options or []]
    if kind == AttributeKind.NUMBER:
        widget = forms.NumberInput(attrs={"step": "any"})
        return forms.CharField(label=label, required=False, widget=widget)
    if kind == AttributeKind.DATE:
        widget = forms.DateInput(attrs={"type": "date"})
        return forms.CharField(label=label, required=False, widget=widget)
    if kind == AttributeKind.CHOICE:
        widget = forms.Select(choices=[("", "—")] + choices)
        return forms.CharField(label=label, required=False, widget=widget)
    if kind == AttributeKind.MULTI:
        widget = forms.CheckboxSelectMultiple(choices=choices)
        return _ListField(label=label, required=False, widget=widget)
    return forms.CharField(label=label, required=False, max_length=1000)


class AttributeFormMixin:
    """Adds one ``attr_<id>`` field per attribute; ``attribute_values()`` feeds the services."""

    def add_attribute_fields(self, attributes, values=None):
        self.attributes = list(attributes)
        values = values or {}
        for attribute in self.attributes:
            name = f"attr_{attribute.pk}"
            self.fields[name] = attribute_field(attribute)
            if str(attribute.pk) in values:
                self.initial.setdefault(name, values[str(attribute.pk)])

    def attribute_values(self) -> dict:
        return {str(a.pk): self.cleaned_data.get(f"attr_{a.pk}") for a in self.attributes}


class CaseForm(AttributeFormMixin, VersionedForm):
    wide_fields = ("description",)
    name = forms.CharField(
        label="Case", max_length=200, help_text="The project or organisation, e.g. BigScience."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, attributes, values=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_attribute_fields(attributes, values)


class OptionsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def clean(self, value):
        text = super().clean(value)
        options, seen = [], set()
        for line in text.splitlines():
            option = line.strip()
            if not option:
                continue
            if len(option) > 200:
                raise forms.ValidationError(f"“{option[:30]}…” is longer than 200 characters.")
            if option.casefold() in seen:
                raise forms.ValidationError(f"{option} is listed twice.")
            seen.add(option.casefold())
            options.append(option)
        return options


class AttributeForm(forms.Form):
    target = forms.ChoiceField(choices=AttributeTarget.choices, widget=forms.HiddenInput)
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=AttributeKind.choices)
    options = OptionsField(
        required=False, help_text="For single and multiple choice: one option per line."
    )


class AttributeEditForm(VersionedForm):
    name = forms.CharField(max_length=100)
    options = OptionsField(
        required=False, help_text="One option per line. An option still in use cannot be removed."
    )

    def __init__(self, *args, attribute: Attribute, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": attribute.name,
                "options": "\n".join(attribute.options or []),
                "version": attribute.version,
            },
        )
        super().__init__(*args, **kwargs)
        if attribute.is_choice:
            rows = min(max(len(attribute.options or []) + 1, 3), 12)
            self.fields["options"].widget.attrs["rows"] = rows
        else:
            del self.fields["options"]


class ParticipantForm(AttributeFormMixin, VersionedForm):
    code = forms.CharField(max_length=30, help_text="Pseudonym code, e.g. I7. Never a real name.")
    case = forms.ModelChoiceField(queryset=None, required=False, empty_label="— no case —")
    contact_name = forms.CharField(max_length=200, required=False, label="Contact name")
    contact_email = forms.EmailField(required=False, label="Contact e-mail")
    contact_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Contact notes"
    )

    def __init__(self, *args, study, attributes, values=None, with_contacts=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = study.cases.all()
        if not with_contacts:
            for name in ("contact_name", "contact_email", "contact_notes"):
                del self.fields[name]
        self.add_attribute_fields(attributes, values)

    def contact(self) -> dict:
        names = ("contact_name", "contact_email", "contact_notes")
        return {name: self.cleaned_data[name] for name in names if name in self.fields}


class ConsentForm(forms.Form):
    form_version = forms.CharField(max_length=50, label="Consent form version")
    effective_on = forms.DateField(
        label="Date consented", widget=forms.DateInput(attrs={"type": "date"})
    )
    allowed = forms.MultipleChoiceField(
        label="Allows",
        choices=ConsentUse.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    retain_until = forms.DateField(
        label="Retain data until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("effective_on", timezone.localdate())


class WithdrawalForm(forms.Form):
    effective_on = forms.DateField(
        label="Date withdrawn", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason")
    confirm = forms.BooleanField(
        label="I understand that this locks every transcript of this participant at once."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("effective_on", timezone.localdate())


class _TranscribableParticipantField(forms.ModelChoiceField):
    """A participant whose consent covers transcription; for anyone else, a message that names
    them and says why, instead of "not one of the available choices"."""

    refused: dict[str, tuple[str, str]] = {}

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            if str(value) not in self.refused:
                raise
            code, why = self.refused[str(value)]
            raise forms.ValidationError(
                f"{code} has no current consent to transcription ({why}). Record their "
                "consent before importing their interviews; no file was read."
            ) from None


class UploadForm(forms.Form):
    participant = _TranscribableParticipantField(
        queryset=None, help_text="Whose interview this is."
    )

    def __init__(
        self, *args, study, allowed: list[int], refused: list[tuple[int, str, str]], **kwargs
    ):
        """Only participants whose consent covers transcription (``allowed``, ids) are offered;
        the form names the others (``refused``: id, code, why), so nobody uploads a file for a
        participant it would be refused for."""
        super().__init__(*args, **kwargs)
        field = self.fields["participant"]
        field.queryset = study.participants.filter(pk__in=allowed)
        field.refused = {str(pk): (code, why) for pk, code, why in refused}
        if refused:
            others = "; ".join(f"{code} ({why})" for _, code, why in refused)
            field.help_text = (
                "Whose interview this is. Only participants whose consent covers "
                f"transcription are listed; not listed: {others}."
            )


class TranscriptMetaForm(VersionedForm):
    title = forms.CharField(max_length=200)
    participant = forms.ModelChoiceField(queryset=None)
    interview_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    interviewers = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    mode = forms.ChoiceField(choices=[("", "—")] + InterviewMode.choices, required=False)
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, required=False, label="Duration (minutes)"
    )
    language = forms.CharField(max_length=35, required=False, help_text="e.g. en, pl, th, yo")

    def __init__(self, *args, study, members, participants=None, **kwargs):
        super().__init__(*args, **kwargs)
        if participants is None:
            participants = study.participants.all()
        self.fields["participant"].queryset = participants
        self.fields["interviewers"].queryset = members
        self.fields["interviewers"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )


class TranscriptEditForm(TranscriptMetaForm):
    status = forms.ChoiceField(choices=TranscriptStatus.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The participant link is fixed once imported: consent and purge follow it.
        del self.fields["participant"]


class PurgeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label="Delete this transcript's text for good.")


REASON_HELP = (
    "Why the text changes, e.g. “typo” or “missed redaction”. It stays in the audit trail for "
    "good: write no real names here."
)


REASON_REQUIRED = {"required": "Say why the text is corrected, e.g. “typo” or “missed redaction”."}


class TurnCorrectionForm(forms.Form):
    text = forms.CharField(
        label="Text of the turn",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "A turn cannot be left empty: keep at least a word of it."},
    )
    reason = forms.CharField(
        label="Reason", max_length=300, help_text=REASON_HELP, error_messages=REASON_REQUIRED
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReplaceAllForm(forms.Form):
    find = forms.CharField(label="Find", max_length=200, help_text="Exact case.")
    replace_with = forms.CharField(
        label="Replace with",
        max_length=200,
        required=False,
        help_text="Leave empty to delete every occurrence.",
    )
    whole_word = forms.BooleanField(
        label="Whole words only",
        required=False,
        initial=True,
        help_text="In Thai, Chinese, Japanese and other scripts without spaces every "
        "occurrence counts.",
    )
    reason = forms.CharField(
        label="Reason", max_length=300, help_text=REASON_HELP, error_messages=REASON_REQUIRED
    )
    # Set by the preview's confirmation only: the version whose occurrences were shown.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PseudonymRuleForm(forms.Form):
    find = forms.CharField(
        label="Real name",
        max_length=200,
        help_text="A person, organisation or place, as it is written in the transcripts.",
    )
    replace_with = forms.CharField(
        label="Replace with",
        max_length=100,
        help_text="A label that cannot be mistaken for a real name, e.g. [P3] or [ORG-A].",
    )
    whole_word = forms.BooleanField(
        label="Whole words only",
        required=False,
        initial=True,
        help_text="“Ann” then leaves “Anna” alone. In Thai, Chinese, Japanese and other "
        "scripts without spaces every occurrence is replaced.",
    )
    case_sensitive = forms.BooleanField(label="Match case exactly", required=False)
