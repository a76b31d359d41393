from django import forms

from workbench.models import ResearchQuestion
from workbench.roles import Role


class VersionedForm(forms.Form):
    """Carries the version the user started from, so a stale edit can be refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StudyForm(VersionedForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What the study is about, in a sentence or two.",
    )
    requires_pseudonymisation = forms.BooleanField(
        required=False,
        initial=True,
        label="Require pseudonymisation before coding",
        help_text="A transcript can be marked ready for coding only when no name on the "
        "study's replacement list is left in it.",
    )


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Role.choices)
        super().__init__(**kwargs)


class MemberInviteForm(forms.Form):
    identifier = forms.CharField(
        label="E-mail or username",
        max_length=254,
        help_text="An e-mail address gets a link; a username finds the invitation on their "
        "study list when they sign in.",
    )
    roles = RolesField()


class InvitationAccountForm(forms.Form):
    """Creating the account an e-mailed invitation is for (the service checks the password)."""

    name = forms.CharField(label="Your full name", max_length=150)
    new_password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="The password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two passwords differ.")
        return data


class MemberRolesForm(forms.Form):
    roles = RolesField(required=False, help_text="Clear every role to remove the person.")


class ResearchQuestionForm(VersionedForm):
    label = forms.CharField(max_length=20, help_text="Short label, e.g. RQ1.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class GuideQuestionForm(VersionedForm):
    text = forms.CharField(label="Question", widget=forms.Textarea(attrs={"rows": 2}))
    probes = forms.CharField(
        label="Probes",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Optional follow-up prompts.",
    )
    research_questions = forms.ModelMultipleChoiceField(
        label="Serves",
        queryset=ResearchQuestion.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=True,
        error_messages={"required": "Link the question to at least one research question."},
    )

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this study's questions are valid choices; another study's id is rejected.
        self.fields["research_questions"].queryset = study.research_questions.all()


class DimensionEditForm(VersionedForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class DimensionForm(DimensionEditForm):
    values = forms.CharField(
        label="Values",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One value per line, e.g. pre-training.",
    )

    def clean_values(self):
        lines = [line.strip() for line in self.cleaned_data["values"].splitlines()]
        labels = [line for line in lines if line]
        seen = set()
        for label in labels:
            if len(label) > 100:
                raise forms.ValidationError(f"“{label[:30]}…” is longer than 100 characters.")
            if label.lower() in seen:
                raise forms.ValidationError(f"{label} is listed twice.")
            seen.add(label.lower())
        return labels


class DimensionValueForm(VersionedForm):
    label = forms.CharField(max_length=100)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="Who")
    verb = forms.ChoiceField(required=False, label="What")
    object_type = forms.ChoiceField(required=False, label="Object")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, verbs=(), object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verb"].choices = [("", "Any action")] + [(v, v) for v in verbs]
        self.fields["object_type"].choices = [("", "Any object")] + [
            (t, t.replace("_", " ")) for t in object_types
        ]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data


def posted(request):
    """POST data for a bound form, even when empty (every box unticked is still a submit)."""
    return request.POST if request.method == "POST" else None


def apply_service(form, operation, /, **kwargs):
    """Run a service; its ValidationError becomes form errors. Returns the result or None.

    Errors keyed by a field the form lacks (say, an attribute added meanwhile) go to the top.
    """
    from django.core.exceptions import ValidationError

    try:
        return operation(**kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None
