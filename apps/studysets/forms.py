from __future__ import annotations

from django import forms

from apps.studysets.models import StudySet
from apps.studysets.services import MAX_NOTE, MAX_TITLE


class StudySetForm(forms.ModelForm):
    class Meta:
        model = StudySet
        fields = ["title", "description", "visibility", "share_notes"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "visibility": forms.RadioSelect,
        }
        labels = {"share_notes": "Share my notes with everyone who can open this set"}
        help_texts = {
            "share_notes": "Only matters for an unlisted or public set. Left unticked, your notes stay "
            "yours: others see the images, captions and sources, not your notes (nor in the download)."
        }


class SaveImageForm(forms.Form):
    image = forms.IntegerField(min_value=1)
    studyset = forms.IntegerField(min_value=1, required=False)
    new_title = forms.CharField(max_length=MAX_TITLE, required=False)
    note = forms.CharField(max_length=MAX_NOTE, required=False)
    # The element ids of the control being replaced, so an in-place swap keeps its labels unique.
    uid = forms.RegexField(regex=r"^ss[0-9]{1,4}$", required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=MAX_NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PublicSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Title contains")
