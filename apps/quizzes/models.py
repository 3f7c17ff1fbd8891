"""Quizzes built from study sets: questions with options, students who joined, attempts, answers."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class Quiz(models.Model):
    DRAFT = "draft"
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"

    # When a student sees the right answers, explanations and sources of an attempt handed in.
    AFTER_EACH_ATTEMPT = "after_attempt"
    AFTER_LAST_ATTEMPT = "after_last_attempt"
    AFTER_CLOSE = "after_close"
    ANSWERS_SHOWN = [
        (AFTER_EACH_ATTEMPT, "after each attempt"),
        (AFTER_LAST_ATTEMPT, "after the last allowed attempt, or once the quiz closes"),
        (AFTER_CLOSE, "once the quiz closes"),
    ]

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quizzes_owned"
    )
    studyset = models.ForeignKey(
        "studysets.StudySet", null=True, blank=True, on_delete=models.SET_NULL, related_name="quizzes"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)  # empty: open as soon as published
    closes_at = models.DateTimeField(null=True, blank=True)  # empty: never closes
    attempts_allowed = models.PositiveSmallIntegerField(default=1)
    shuffle_questions = models.BooleanField(default=True)
    shuffle_options = models.BooleanField(default=True)
    answers_shown = models.CharField(max_length=20, choices=ANSWERS_SHOWN, default=AFTER_LAST_ATTEMPT)
    join_code = models.CharField(max_length=12, unique=True, null=True, blank=True)  # set when published
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def state(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if not self.is_published:
            return self.DRAFT
        if self.opens_at is not None and now < self.opens_at:
            return self.NOT_OPEN
        if self.closes_at is not None and now >= self.closes_at:
            return self.CLOSED
        return self.OPEN

    @property
    def is_open(self) -> bool:
        return self.state() == self.OPEN


class Participant(models.Model):
    """A student who joined the quiz with its code (and may therefore open and take it)."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quizzes_joined"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["quiz", "user"], name="quiz_participant_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.quiz_id}"


class Question(models.Model):
    WHAT = "what"
    WHICH = "which"
    TRUE_FALSE = "truefalse"
    KINDS = [
        (WHAT, "What does this image show? (multiple choice)"),
        (WHICH, "Which image shows …? (pick one of four images)"),
        (TRUE_FALSE, "True or false about an image"),
    ]

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=10, choices=KINDS)
    position = models.PositiveIntegerField()
    prompt = models.TextField()
    # The image the question is about: shown with WHAT and TRUE_FALSE, the right option of WHICH.
    # Its caption and source are the explanation shown after answering.
    image = models.ForeignKey("corpus.Image", on_delete=models.CASCADE, related_name="quiz_questions")
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.prompt


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500, blank=True)
    image = models.ForeignKey(
        "corpus.Image", null=True, blank=True, on_delete=models.CASCADE, related_name="quiz_options"
    )
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text or f"image {self.image_id}"


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    number = models.PositiveSmallIntegerField()  # 1, 2, … per student and quiz
    # The questions of this attempt in the order shown; options are shuffled from `seed`, so a
    # reload shows the same order.
    seed = models.PositiveIntegerField()
    question_ids = ArrayField(models.BigIntegerField(), default=list)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    max_score = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["quiz", "user", "number"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "user", "number"], name="quiz_attempt_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.quiz_id} #{self.number}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def percent(self) -> int | None:
        if self.score is None or not self.max_score:
            return None
        return round(100 * self.score / self.max_score)


class Answer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_correct = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="quiz_answer_unique_question"),
        ]

    def __str__(self) -> str:
        return f"{self.option_id} for {self.question_id} in {self.attempt_id}"
