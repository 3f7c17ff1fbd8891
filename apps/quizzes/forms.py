from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from apps.corpus.models import Image
from apps.quizzes.models import Question, Quiz
from apps.quizzes.selectors import LETTERS
from apps.quizzes.services import MAX_ATTEMPTS_ALLOWED


class BuildQuizForm(forms.Form):
    studyset = forms.TypedChoiceField(coerce=int, label="Study set")
    title = forms.CharField(max_length=200, required=False, help_text="Empty: “Quiz: ” and the set's title.")
    kinds = forms.MultipleChoiceField(
        choices=Question.KINDS,
        widget=forms.CheckboxSelectMultiple,
        label="Question types (taken in turn, one question per image)",
        initial=[kind for kind, _ in Question.KINDS],
    )
    count = forms.IntegerField(
        min_value=1,
        required=False,
        label="Number of questions",
        help_text="Empty: one per image of the set.",
    )

    def __init__(self, *args, studysets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["studyset"].choices = [(s.pk, s.title) for s in studysets]
        most = settings.MIRAGE_QUIZ_MAX_QUESTIONS  # a setting, so read per form rather than at import
        self.fields["count"].validators.append(MaxValueValidator(most))
        self.fields["count"].widget.attrs["max"] = most


_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class QuizSettingsForm(forms.ModelForm):
    class Meta:
        model = Quiz
        fields = [
            "title",
            "description",
            "opens_at",
            "closes_at",
            "attempts_allowed",
            "shuffle_questions",
            "shuffle_options",
            "answers_shown",
        ]
        labels = {
            "opens_at": "Opens at (empty: as soon as published)",
            "closes_at": "Closes at (empty: never)",
            "attempts_allowed": "Attempts allowed per student",
            "shuffle_questions": "Shuffle the questions for each attempt",
            "shuffle_options": "Shuffle the options for each attempt",
            "answers_shown": "Students see the right answers and explanations",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "opens_at": _WHEN,
            "closes_at": _WHEN,
            "answers_shown": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attempts_allowed"].min_value = 1
        self.fields["attempts_allowed"].widget.attrs.update(min=1, max=MAX_ATTEMPTS_ALLOWED)


class JoinForm(forms.Form):
    code = forms.CharField(
        max_length=20, label="Join code", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


@dataclass
class PickerCard:
    """One image of the `which` picker: offered as an option now, and whether it is the right one."""

    image: Image
    offered: bool
    right: bool


class QuestionForm(forms.Form):
    """Edit one question: its wording, explanation, the right option and (but for true/false) the options.

    `what` questions have a text field per option and a radio for the right one. `which` questions
    have a picker: a checkbox per image to offer it and a radio for the right one (plain HTML, no
    JavaScript), from `image_choices`; once students have answered, the images and the right one
    stay as graded, so the picker is left out. `clean` turns either into what `question_update`
    takes: `correct` (an index) and `option_values` (texts or image ids, A first, or None to keep).
    """

    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Question")
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Explanation shown after answering (the image's source is linked below it)",
    )
    correct = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Right answer")

    def __init__(
        self, *args, question: Question, image_choices: list[Image] = (), answered: bool = False, **kwargs
    ) -> None:
        self.options = list(question.options.all())
        self.question = question
        initial = {
            "prompt": question.prompt,
            "explanation": question.explanation,
            "correct": next((i for i, o in enumerate(self.options) if o.is_correct), 0),
        }
        if question.kind == Question.WHAT:
            initial |= {f"option_{i}": option.text for i, option in enumerate(self.options)}
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["correct"].choices = [
            (i, option.text or f"Image {LETTERS[i]}") for i, option in enumerate(self.options)
        ]
        if question.kind == Question.WHAT:
            for i, _option in enumerate(self.options):
                self.fields[f"option_{i}"] = forms.CharField(max_length=500, label=f"Option {LETTERS[i]}")
        elif question.kind == Question.WHICH:
            del self.fields["correct"]  # the picker's radio says which image is right
            self.image_choices = [] if answered else list(image_choices)
            if self.image_choices:
                ids = [(image.pk, str(image.pk)) for image in self.image_choices]
                self.fields["images"] = forms.TypedMultipleChoiceField(
                    coerce=int, choices=ids, required=False
                )
                self.fields["right_image"] = forms.TypedChoiceField(coerce=int, choices=ids, required=False)

    def picker(self) -> list[PickerCard]:
        """The picker's cards, checked as posted (so a refused choice is shown again) or as stored."""
        if "images" not in self.fields:
            return []
        if self.is_bound:
            offered = {str(pk) for pk in self.data.getlist("images")}
            right = {str(self.data.get("right_image", ""))}
        else:
            offered = {str(o.image_id) for o in self.options}
            right = {str(o.image_id) for o in self.options if o.is_correct}
        return [
            PickerCard(image=image, offered=str(image.pk) in offered, right=str(image.pk) in right)
            for image in self.image_choices
        ]

    def clean(self) -> dict:
        data = super().clean()
        if self.question.kind == Question.WHAT:
            data["option_values"] = [data.get(f"option_{i}", "") for i in range(len(self.options))]
        elif self.question.kind == Question.WHICH:
            data["option_values"], data["correct"] = None, None  # kept as they are
            if "images" in self.fields:
                ids = _keep_places([o.image_id for o in self.options], data.get("images") or [])
                right = data.get("right_image")
                data["option_values"] = ids
                data["correct"] = ids.index(right) if right in ids else -1
        else:
            data["option_values"] = None
        return data


def _keep_places(current: list[int], chosen: list[int]) -> list[int]:
    """The chosen image ids as options: those offered already keep their letter, new ones take the
    letters freed, in the picker's order (so unticking B and ticking another image changes only B)."""
    added = [pk for pk in chosen if pk not in current]
    places = [pk if pk in chosen else None for pk in current]
    for index, pk in enumerate(places):
        if pk is None and added:
            places[index] = added.pop(0)
    return [pk for pk in places if pk is not None] + added
