from __future__ import annotations

from django import forms

from apps.moderation.models import Decision
from apps.moderation.services import MAX_REASON_CHARS


class ReportForm(forms.Form):
    reason = forms.CharField(
        label="What is wrong with this image?",
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: a wrong caption, an identifiable patient, a misleading synthetic image.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.ACTIONS)
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to reject; the image's author reads it.",
    )
