from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

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


class QuestionForm(forms.Form):
    """Edit one question: its wording, explanation, the right option and (but for true/false) the options."""

    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Question")
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Explanation shown after answering (the image's source is linked below it)",
    )
    correct = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Right answer")

    def __init__(self, *args, question: Question, **kwargs) -> None:
        options = list(question.options.all())
        initial = {
            "prompt": question.prompt,
            "explanation": question.explanation,
            "correct": next((i for i, o in enumerate(options) if o.is_correct), 0),
        }
        for i, option in enumerate(options):
            if question.kind == Question.WHAT:
                initial[f"option_{i}"] = option.text
            elif question.kind == Question.WHICH:
                initial[f"option_{i}"] = option.image_id
        super().__init__(*args, initial=initial, **kwargs)
        self.question = question
        self.fields["correct"].choices = [
            (i, option.text or f"Image {LETTERS[i]}") for i, option in enumerate(options)
        ]
        for i, _option in enumerate(options):
            if question.kind == Question.WHAT:
                self.fields[f"option_{i}"] = forms.CharField(max_length=500, label=f"Option {LETTERS[i]}")
            elif question.kind == Question.WHICH:
                self.fields[f"option_{i}"] = forms.IntegerField(
                    min_value=1,
                    label=f"Image {LETTERS[i]}: number of a corpus image (as in /images/<number>/)",
                )

    def option_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith("option_")]
