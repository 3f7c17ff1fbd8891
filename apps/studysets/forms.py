from __future__ import annotations

from django import forms

from apps.studysets.models import StudySet
from apps.studysets.services import MAX_NOTE


class StudySetForm(forms.ModelForm):
    class Meta:
        model = StudySet
        fields = ["title", "description", "visibility"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "visibility": forms.RadioSelect,
        }


class SaveImageForm(forms.Form):
    image = forms.IntegerField(min_value=1)
    studyset = forms.IntegerField(min_value=1, required=False)
    note = forms.CharField(max_length=MAX_NOTE, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=MAX_NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PublicSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Title contains")
