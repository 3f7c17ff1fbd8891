"""Quizzes, questions, attempts and results as JSON, and what the API accepts to change them.

While an attempt is not handed in, a student sees the pictures only: no image ids, captions,
explanations or right answers, since any of them would give the answer away; after, they see them
when `attempt_shows_answers` says so (the quiz's instructor chooses when).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.corpus.models import Image
from apps.corpus.serializers import ImageSerializer
from apps.quizzes.models import Attempt, Option, Question, Quiz
from apps.quizzes.selectors import LETTERS, QUIZ_ROLES, AttemptQuestion
from apps.quizzes.services import MAX_ATTEMPTS_ALLOWED, option_changes
from apps.studysets.serializers import MAX_ID

# --- reading -----------------------------------------------------------------------------------------


class PictureSerializer(serializers.Serializer):
    """An image as a student taking a quiz sees it: the picture and its size, nothing that names it."""

    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)

    def _absolute(self, field) -> str | None:
        if not field:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(field.url) if request else field.url

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image_url(self, image: Image) -> str | None:
        return self._absolute(image.file)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, image: Image) -> str | None:
        return self._absolute(image.thumbnail)


class QuizSummarySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Quiz
        fields = ["id", "title", "owner", "state", "opens_at", "closes_at", "published_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=[Quiz.DRAFT, Quiz.NOT_OPEN, Quiz.OPEN, Quiz.CLOSED]))
    def get_state(self, quiz: Quiz) -> str:
        return quiz.state()


class QuizListItemSerializer(QuizSummarySerializer):
    """A quiz in a list (a row of `quizzes_of`); the instructor-only fields are null for students."""

    is_owner = serializers.SerializerMethodField()
    join_code = serializers.SerializerMethodField()
    question_count = serializers.SerializerMethodField()
    participant_count = serializers.SerializerMethodField()

    class Meta(QuizSummarySerializer.Meta):
        fields = [
            *QuizSummarySerializer.Meta.fields,
            "is_owner",
            "join_code",
            "question_count",
            "participant_count",
        ]
        read_only_fields = fields

    def get_is_owner(self, quiz: Quiz) -> bool:
        return quiz.owner_id == self.context["request"].user.pk

    def get_join_code(self, quiz: Quiz) -> str | None:
        return quiz.join_code if self.get_is_owner(quiz) else None

    def get_question_count(self, quiz: Quiz) -> int | None:
        return quiz.question_count if self.get_is_owner(quiz) else None

    def get_participant_count(self, quiz: Quiz) -> int | None:
        return quiz.participant_count if self.get_is_owner(quiz) else None


class QuizListParamsSerializer(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=list(QUIZ_ROLES),
        default="all",
        help_text="owned: quizzes you built; joined: quizzes you joined with a code; all: both",
    )


class AttemptSummarySerializer(serializers.ModelSerializer):
    quiz_title = serializers.CharField(source="quiz.title", read_only=True)
    percent = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Attempt
        fields = [
            "id",
            "quiz",
            "quiz_title",
            "number",
            "started_at",
            "submitted_at",
            "score",
            "max_score",
            "percent",
        ]
        read_only_fields = fields


class QuizSerializer(QuizSummarySerializer):
    """A quiz as its instructor or a student who joined sees it. The instructor-only fields are
    null for students; `your_attempts` are the caller's own."""

    is_owner = serializers.SerializerMethodField()
    your_attempts = serializers.SerializerMethodField()
    attempts_left = serializers.SerializerMethodField()
    unfinished_attempt = serializers.SerializerMethodField(
        help_text="Your attempt not yet handed in: /api/quizzes/attempts/{id}/"
    )
    join_code = serializers.SerializerMethodField()
    join_url = serializers.SerializerMethodField()
    question_count = serializers.SerializerMethodField()
    participant_count = serializers.SerializerMethodField()
    hidden_question_count = serializers.SerializerMethodField(
        help_text="Questions students no longer see: an image in them was rejected or is not approved"
    )
    locked = serializers.SerializerMethodField(
        help_text="Students have taken the quiz, so its questions can no longer change"
    )

    class Meta(QuizSummarySerializer.Meta):
        fields = [
            *QuizSummarySerializer.Meta.fields,
            "description",
            "studyset",
            "attempts_allowed",
            "shuffle_questions",
            "shuffle_options",
            "answers_shown",
            "is_owner",
            "your_attempts",
            "attempts_left",
            "unfinished_attempt",
            "join_code",
            "join_url",
            "question_count",
            "participant_count",
            "hidden_question_count",
            "locked",
        ]
        read_only_fields = fields

    def _facts(self):
        return self.context.get("facts")  # only for the quiz's owner

    def get_is_owner(self, quiz: Quiz) -> bool:
        return self._facts() is not None

    @extend_schema_field(AttemptSummarySerializer(many=True))
    def get_your_attempts(self, quiz: Quiz) -> list[dict]:
        return AttemptSummarySerializer(self.context["progress"].attempts, many=True).data

    def get_attempts_left(self, quiz: Quiz) -> int:
        return self.context["progress"].attempts_left

    def get_unfinished_attempt(self, quiz: Quiz) -> int | None:
        unfinished = self.context["progress"].unfinished
        return unfinished.pk if unfinished else None

    def get_join_code(self, quiz: Quiz) -> str | None:
        return quiz.join_code if self._facts() else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_join_url(self, quiz: Quiz) -> str | None:
        if not (self._facts() and quiz.join_code):
            return None
        return self.context["request"].build_absolute_uri(f"{reverse('quizzes:join')}?code={quiz.join_code}")

    def get_question_count(self, quiz: Quiz) -> int | None:
        return self._facts().question_count if self._facts() else None

    def get_participant_count(self, quiz: Quiz) -> int | None:
        return self._facts().participant_count if self._facts() else None

    def get_hidden_question_count(self, quiz: Quiz) -> int | None:
        return self._facts().hidden_question_count if self._facts() else None

    def get_locked(self, quiz: Quiz) -> bool | None:
        return self._facts().locked if self._facts() else None


class OptionSerializer(serializers.ModelSerializer):
    """An option with its answer, for the quiz's instructor."""

    letter = serializers.SerializerMethodField()
    image = ImageSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Option
        fields = ["id", "letter", "text", "image", "is_correct"]
        read_only_fields = fields

    def get_letter(self, option: Option) -> str:
        return LETTERS[self.context["letters"][option.pk]]


class QuestionSerializer(serializers.ModelSerializer):
    """A question with its options and right answer, for the quiz's instructor."""

    number = serializers.SerializerMethodField()
    image = ImageSerializer(read_only=True, help_text="The image asked about (for `which`: the right one)")
    options = serializers.SerializerMethodField()
    shown_to_students = serializers.SerializerMethodField(
        help_text="False when an image in it was rejected or is not approved: students no longer see it"
    )

    class Meta:
        model = Question
        fields = ["id", "number", "kind", "prompt", "explanation", "image", "options", "shown_to_students"]
        read_only_fields = fields

    def get_number(self, question: Question) -> int:
        return self.context["numbers"][question.pk]

    @extend_schema_field(OptionSerializer(many=True))
    def get_options(self, question: Question) -> list[dict]:
        options = list(question.options.all())
        letters = {option.pk: index for index, option in enumerate(options)}
        return OptionSerializer(options, many=True, context={**self.context, "letters": letters}).data

    def get_shown_to_students(self, question: Question) -> bool:
        return question.pk in self.context["shown"]


class AttemptOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="option.pk")
    letter = serializers.CharField()
    text = serializers.CharField(source="option.text")
    picture = serializers.SerializerMethodField(help_text="For `which` questions: the image to choose")
    is_correct = serializers.SerializerMethodField(help_text="Null until the answers are shown")
    image = serializers.SerializerMethodField(
        help_text="For `which` questions, once the answers are shown: the image with its caption and source"
    )

    @extend_schema_field(PictureSerializer(allow_null=True))
    def get_picture(self, shown: dict) -> dict | None:
        image = shown["option"].image
        return PictureSerializer(image, context=self.context).data if image else None

    def get_is_correct(self, shown: dict) -> bool | None:
        return shown["option"].is_correct if self.context["reveal"] else None

    @extend_schema_field(ImageSerializer(allow_null=True))
    def get_image(self, shown: dict) -> dict | None:
        image = shown["option"].image
        if not (image and self.context["reveal"]):
            return None
        return ImageSerializer(image, context=self.context).data


class AttemptQuestionSerializer(serializers.Serializer):
    """A question of an attempt, in the attempt's order; what it reveals depends on `answers_shown`."""

    id = serializers.IntegerField(source="question.pk")
    number = serializers.IntegerField()
    kind = serializers.ChoiceField(source="question.kind", choices=Question.KINDS)
    prompt = serializers.CharField(source="question.prompt")
    picture = serializers.SerializerMethodField(help_text="The image asked about; null for `which`")
    options = serializers.SerializerMethodField()
    chosen_option = serializers.SerializerMethodField(help_text="Your answer's option id, once handed in")
    is_correct = serializers.SerializerMethodField(help_text="Null until the answers are shown")
    explanation = serializers.SerializerMethodField(help_text="Null until the answers are shown")
    image = serializers.SerializerMethodField(
        help_text="Once the answers are shown: the image asked about, with its caption, source and licence"
    )

    @extend_schema_field(PictureSerializer(allow_null=True))
    def get_picture(self, shown: AttemptQuestion) -> dict | None:
        if shown.question.kind == Question.WHICH:  # its image is the right answer
            return None
        return PictureSerializer(shown.question.image, context=self.context).data

    @extend_schema_field(AttemptOptionSerializer(many=True))
    def get_options(self, shown: AttemptQuestion) -> list[dict]:
        rows = [{"letter": letter, "option": option} for letter, option in shown.lettered_options]
        return AttemptOptionSerializer(rows, many=True, context=self.context).data

    def get_chosen_option(self, shown: AttemptQuestion) -> int | None:
        return shown.chosen.pk if shown.chosen else None

    def get_is_correct(self, shown: AttemptQuestion) -> bool | None:
        return shown.is_correct if self.context["reveal"] else None

    def get_explanation(self, shown: AttemptQuestion) -> str | None:
        return shown.question.explanation if self.context["reveal"] else None

    @extend_schema_field(ImageSerializer(allow_null=True))
    def get_image(self, shown: AttemptQuestion) -> dict | None:
        if not self.context["reveal"]:
            return None
        return ImageSerializer(shown.question.image, context=self.context).data


class AttemptSerializer(AttemptSummarySerializer):
    """One attempt: the questions to answer, or (once handed in) the score and feedback."""

    student = serializers.CharField(source="user.username", read_only=True)
    attempts_allowed = serializers.IntegerField(source="quiz.attempts_allowed", read_only=True)
    closes_at = serializers.DateTimeField(source="quiz.closes_at", read_only=True, allow_null=True)
    is_submitted = serializers.BooleanField(read_only=True)
    answers_shown = serializers.SerializerMethodField(
        help_text="Whether the right answers, explanations and sources are shown to you now: never "
        "before the attempt is handed in, then as the quiz's `answers_shown` setting says"
    )
    questions = serializers.SerializerMethodField()

    class Meta(AttemptSummarySerializer.Meta):
        fields = [
            *AttemptSummarySerializer.Meta.fields,
            "student",
            "attempts_allowed",
            "closes_at",
            "is_submitted",
            "answers_shown",
            "questions",
        ]
        read_only_fields = fields

    def get_answers_shown(self, attempt: Attempt) -> bool:
        return self.context["reveal"]

    @extend_schema_field(AttemptQuestionSerializer(many=True))
    def get_questions(self, attempt: Attempt) -> list[dict]:
        return AttemptQuestionSerializer(self.context["questions"], many=True, context=self.context).data


class ResultAttemptSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    answers_url = serializers.SerializerMethodField(
        help_text="The attempt with the student's answer and the right one for each question"
    )

    class Meta:
        model = Attempt
        fields = [
            "id",
            "number",
            "started_at",
            "submitted_at",
            "score",
            "max_score",
            "percent",
            "answers_url",
        ]
        read_only_fields = fields

    def get_answers_url(self, attempt: Attempt) -> str:
        url = reverse("api:quizzes-attempt", args=[attempt.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class StudentResultSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    attempts = ResultAttemptSerializer(many=True, help_text="Handed in, in order")
    best = serializers.SerializerMethodField(help_text="Id of the best attempt")
    last = serializers.SerializerMethodField(help_text="Id of the last attempt")

    def get_best(self, result) -> int | None:
        return result.best.pk if result.best else None

    def get_last(self, result) -> int | None:
        return result.last.pk if result.last else None


class QuestionStatSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    question = serializers.IntegerField(source="question.pk")
    kind = serializers.ChoiceField(source="question.kind", choices=Question.KINDS)
    prompt = serializers.CharField(source="question.prompt")
    answered = serializers.IntegerField(help_text="Answers handed in, blanks included")
    correct = serializers.IntegerField()
    share_correct = serializers.FloatField(allow_null=True)


class ResultsSerializer(serializers.Serializer):
    students = StudentResultSerializer(many=True)
    questions = QuestionStatSerializer(many=True)


# --- writing -----------------------------------------------------------------------------------------


class BuildSerializer(serializers.Serializer):
    studyset = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="One of your study sets, or a public one"
    )
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Empty: “Quiz: ” and the set's title"
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=[kind for kind, _label in Question.KINDS]),
        required=False,
        allow_empty=False,
        help_text="Question types, taken in turn (default: all)",
    )
    count = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Number of questions (default: one per image)"
    )

    def validate_count(self, count: int | None) -> int | None:
        most = settings.MIRAGE_QUIZ_MAX_QUESTIONS  # a setting, so read per request
        if count is not None and count > most:
            raise serializers.ValidationError(f"Ask for at most {most} questions.")
        return count


class SettingsSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    # ISO 8601; a time without an offset is read in the server's time zone (the API ignores the
    # user's, which only the pages use).
    opens_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Null: once published. Without an offset: the server's zone",
    )
    closes_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Null: never. Without an offset: the server's zone"
    )
    attempts_allowed = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ATTEMPTS_ALLOWED)
    shuffle_questions = serializers.BooleanField(required=False)
    shuffle_options = serializers.BooleanField(required=False)
    answers_shown = serializers.ChoiceField(
        choices=Quiz.ANSWERS_SHOWN,
        required=False,
        help_text="When students see the right answers, explanations and sources of an attempt "
        "handed in: after_attempt, after_last_attempt (or once the quiz closes), after_close",
    )


class QuestionEditSerializer(serializers.Serializer):
    """What changes in a question; what is left out stays. Needs the question in `context`."""

    prompt = serializers.CharField(required=False, allow_blank=True)
    explanation = serializers.CharField(required=False, allow_blank=True)
    correct = serializers.IntegerField(
        required=False, min_value=0, max_value=len(LETTERS) - 1, help_text="The right option: 0 = A, 1 = B…"
    )
    option_texts = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        required=False,
        max_length=len(LETTERS),
        help_text="`what` questions: the texts of the options, A first",
    )
    option_images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=len(LETTERS),
        help_text="`which` questions: the ids of the options' images, A first",
    )

    # Which kind of question takes which field.
    OPTION_FIELDS = {
        "option_texts": (Question.WHAT, "Only `what` questions have texts."),
        "option_images": (Question.WHICH, "Only `which` questions have images."),
    }

    def validate(self, data: dict) -> dict:
        question = self.context["question"]
        for name, (kind, refusal) in self.OPTION_FIELDS.items():
            values = data.pop(name, None)
            if values is None:
                continue
            if question.kind != kind:
                raise serializers.ValidationError({name: [refusal]})
            data["options"] = option_changes(question=question, values=values)
        return data


class JoinSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20, help_text="The quiz's join code, from the instructor")


class AnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    option = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        default=None,
        help_text="The chosen option's id; null or left out: blank (counts as wrong)",
    )


class SubmitSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, help_text="A question left out counts as wrong")

    def validate_answers(self, answers: list[dict]) -> dict[int, int | None]:
        chosen: dict[int, int | None] = {}
        for answer in answers:
            if answer["question"] in chosen:
                raise serializers.ValidationError(f"Question {answer['question']} is answered twice.")
            chosen[answer["question"]] = answer["option"]
        return chosen
