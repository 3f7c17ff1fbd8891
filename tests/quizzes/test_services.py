"""Quiz services: building, publishing, joining, attempts within their rules, grading, results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.quizzes.models import Attempt, Question, Quiz
from apps.quizzes.selectors import attempt_questions, quiz_question_stats, quiz_results_by_student
from apps.quizzes.services import (
    JOIN_CODE_ALPHABET,
    OptionChange,
    QuizError,
    attempt_start,
    question_update,
    quiz_build_from_studyset,
    quiz_join,
    quiz_publish,
    quiz_submit,
    quiz_update_settings,
)
from apps.studysets.models import StudySet
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers
from tests.studysets.helpers import reject, studyset

pytestmark = pytest.mark.django_db


def test_an_instructor_builds_a_draft_quiz_with_one_question_per_image_of_the_set():
    teacher = instructor()
    images = factories.images(*CAPTIONS)
    source = studyset(teacher, images, title="Emergency imaging")

    quiz = quiz_build_from_studyset(instructor=teacher, studyset=source)

    assert quiz.title == "Quiz: Emergency imaging" and not quiz.is_published and quiz.state() == Quiz.DRAFT
    assert [q.image for q in quiz.questions.all()] == images
    assert [q.kind for q in quiz.questions.all()] == ["what", "which", "truefalse", "what"]
    assert all(q.options.filter(is_correct=True).count() == 1 for q in quiz.questions.all())


def test_a_quiz_can_be_built_from_someone_elses_public_set_but_not_a_private_one():
    teacher, student = instructor(), factories.user()
    images = factories.images(*CAPTIONS)
    public = studyset(student, images, visibility=StudySet.PUBLIC)
    private = studyset(student, images, title="Private")

    assert quiz_build_from_studyset(instructor=teacher, studyset=public).questions.count() == 4
    with pytest.raises(QuizError) as raised:
        quiz_build_from_studyset(instructor=teacher, studyset=private)
    assert raised.value.status == 403


def test_students_cannot_build_quizzes_and_an_empty_set_builds_nothing():
    student, teacher = factories.user(), instructor()
    with pytest.raises(QuizError, match="Only instructors"):
        quiz_build_from_studyset(instructor=student, studyset=studyset(student))
    with pytest.raises(QuizError, match="no images") as raised:
        quiz_build_from_studyset(instructor=teacher, studyset=studyset(teacher))
    assert raised.value.status == 409
    assert not Quiz.objects.exists()


def test_publishing_gives_a_code_of_eight_characters_from_thirty_that_cannot_be_mistaken():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    assert len(quiz.join_code) >= 8 and set(quiz.join_code) <= set(JOIN_CODE_ALPHABET)
    assert len(set(JOIN_CODE_ALPHABET)) == len(JOIN_CODE_ALPHABET) == 30
    assert set(JOIN_CODE_ALPHABET) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    assert not set("0O1IL") & set(JOIN_CODE_ALPHABET)
    assert quiz.published_at is not None


def test_a_shorter_code_given_out_before_still_joins():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    Quiz.objects.filter(pk=quiz.pk).update(join_code="ACE349")  # six of the 21 symbols used then
    assert quiz_join(user=factories.user(), code="ace 349") == quiz


def test_a_quiz_without_questions_cannot_be_published():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS), publish=False)
    quiz.questions.all().delete()
    with pytest.raises(QuizError, match="at least one question"):
        quiz_publish(quiz=quiz)


def test_joining_ignores_case_and_spaces_and_refuses_wrong_codes_and_closed_quizzes():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    student = factories.user()
    code = quiz.join_code

    assert quiz_join(user=student, code=f" {code[:3].lower()} {code[3:]} ") == quiz
    with pytest.raises(QuizError, match="No quiz has the code") as wrong:
        quiz_join(user=student, code="ZZZZZZ")
    assert wrong.value.status == 404
    Quiz.objects.filter(pk=quiz.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(QuizError, match="closed on") as closed:
        quiz_join(user=factories.user(), code=code)
    assert closed.value.status == 403


def test_an_attempt_is_refused_before_opening_after_closing_and_when_attempts_are_used_up():
    now = timezone.now()
    images = factories.images(*CAPTIONS)
    quiz = quiz_from(
        instructor(), images, opens_at=now + timedelta(hours=1), closes_at=now + timedelta(hours=2)
    )
    student = joined(quiz)

    with pytest.raises(QuizError, match="opens on"):
        attempt_start(quiz=quiz, user=student, now=now)
    with pytest.raises(QuizError, match="closed on"):
        attempt_start(quiz=quiz, user=student, now=now + timedelta(hours=3))
    attempt = attempt_start(quiz=quiz, user=student, now=now + timedelta(minutes=90))
    assert attempt_start(quiz=quiz, user=student, now=now + timedelta(minutes=91)) == attempt  # resumed
    quiz_submit(attempt=attempt, answers={}, now=now + timedelta(minutes=95))
    with pytest.raises(QuizError, match="used all 1 attempt ") as used_up:
        attempt_start(quiz=quiz, user=student, now=now + timedelta(minutes=96))
    assert used_up.value.status == 403


def test_a_draft_cannot_be_taken():
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS), publish=False)
    with pytest.raises(QuizError, match="not published") as raised:
        attempt_start(quiz=quiz, user=teacher)
    assert raised.value.status == 409


def test_shuffling_is_fixed_per_attempt_so_a_reload_shows_the_same_order():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS), attempts_allowed=5)
    student = joined(quiz)
    attempt = attempt_start(quiz=quiz, user=student)

    def order(a):
        return [(s.question.pk, [o.pk for o in s.options]) for s in attempt_questions(attempt=a)]

    assert order(attempt) == order(Attempt.objects.get(pk=attempt.pk))
    assert sorted(attempt.question_ids) == sorted(quiz.questions.values_list("pk", flat=True))
    # True/false keeps True first whatever the seed; the others follow the seed.
    for shown in attempt_questions(attempt=attempt):
        if shown.question.kind == Question.TRUE_FALSE:
            assert [o.text for o in shown.options] == ["True", "False"]


def test_without_shuffling_questions_come_in_the_sets_order():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS), shuffle_questions=False)
    attempt = attempt_start(quiz=quiz, user=joined(quiz))
    assert attempt.question_ids == list(quiz.questions.order_by("position").values_list("pk", flat=True))


def test_grading_counts_right_answers_and_blanks_as_wrong():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    attempt = attempt_start(quiz=quiz, user=joined(quiz))
    right = right_answers(attempt)
    first, second, *_ = attempt.question_ids
    wrong_option = quiz.questions.get(pk=second).options.filter(is_correct=False).first().pk

    graded = quiz_submit(attempt=attempt, answers={first: right[first], second: wrong_option})

    assert (graded.score, graded.max_score, graded.percent) == (1, 4, 25)
    feedback = {s.question.pk: s for s in attempt_questions(attempt=graded)}
    assert feedback[first].is_correct and not feedback[second].is_correct and feedback[second].answered
    assert not any(feedback[pk].answered for pk in attempt.question_ids[2:])


def test_an_answer_from_another_question_is_refused_and_a_second_hand_in_too():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    attempt = attempt_start(quiz=quiz, user=joined(quiz))
    right = right_answers(attempt)
    first, second, *_ = attempt.question_ids

    with pytest.raises(QuizError, match="does not belong"):
        quiz_submit(attempt=attempt, answers={first: right[second]})
    quiz_submit(attempt=attempt, answers=right)
    with pytest.raises(QuizError, match="already handed in") as again:
        quiz_submit(attempt=attempt, answers=right)
    assert again.value.status == 409
    assert Attempt.objects.get(pk=attempt.pk).score == 4


def test_an_attempt_begun_in_time_may_be_handed_in_within_the_grace_period_only(settings):
    settings.MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES = 10
    closes = timezone.now() + timedelta(minutes=5)
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS), closes_at=closes)
    student_a, student_b = joined(quiz), joined(quiz)
    late_but_in_grace = attempt_start(quiz=quiz, user=student_a)
    too_late = attempt_start(quiz=quiz, user=student_b)

    quiz_submit(attempt=late_but_in_grace, answers={}, now=closes + timedelta(minutes=9))
    with pytest.raises(QuizError, match="can no longer be handed in") as raised:
        quiz_submit(attempt=too_late, answers={}, now=closes + timedelta(minutes=11))
    assert raised.value.status == 403


def test_a_rejected_image_takes_its_questions_out_of_new_attempts_and_grading():
    images = factories.images(*CAPTIONS)
    quiz = quiz_from(instructor(), images, kinds=[Question.WHICH])
    student = joined(quiz)
    begun = attempt_start(quiz=quiz, user=student)

    reject(images[0])  # one of the four images offered in every question

    assert attempt_questions(attempt=begun) == []
    assert quiz_submit(attempt=begun, answers={}).max_score == 0


def test_a_rejected_image_only_asked_about_removes_just_its_question():
    images = factories.images(*CAPTIONS)
    quiz = quiz_from(instructor(), images, kinds=[Question.TRUE_FALSE], attempts_allowed=2)
    reject(images[2])
    attempt = attempt_start(quiz=quiz, user=joined(quiz))
    assert len(attempt.question_ids) == 3
    assert all(quiz.questions.get(pk=pk).image != images[2] for pk in attempt.question_ids)


def test_the_instructor_edits_options_and_the_right_answer_until_someone_takes_the_quiz():
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS), kinds=[Question.WHAT])
    question = quiz.questions.first()
    texts = ["Pneumothorax", "Pleural effusion", "Pneumonia", "Normal chest"]

    question_update(
        question=question,
        editor=teacher,
        prompt="What is the main finding?",
        explanation="Visceral pleural line.",
        correct=0,
        options=[OptionChange(text=text) for text in texts],
    )

    assert list(question.options.values_list("text", "is_correct")) == [
        ("Pneumothorax", True),
        ("Pleural effusion", False),
        ("Pneumonia", False),
        ("Normal chest", False),
    ]
    with pytest.raises(QuizError, match="read the same"):
        question_update(
            question=question, editor=teacher, prompt="Q", explanation="", correct=0,
            options=[OptionChange(text=t) for t in ["A", "a.", "B", "C"]],
        )  # fmt: skip
    attempt_start(quiz=quiz, user=joined(quiz))
    with pytest.raises(QuizError, match="not which answer is right") as locked:
        question_update(
            question=question, editor=teacher, prompt="Changed", explanation="", correct=1,
            options=[OptionChange(text=text) for text in texts],
        )  # fmt: skip
    assert locked.value.status == 409


def test_which_image_options_can_only_be_images_the_instructor_may_see():
    teacher = instructor()
    images = factories.images(*CAPTIONS)
    (rejected,) = factories.images("Rejected picture.")
    reject(rejected)
    quiz = quiz_from(teacher, images, kinds=[Question.WHICH], publish=False)
    question = quiz.questions.first()
    ids = [i.pk for i in images]

    with pytest.raises(QuizError, match=f"number {rejected.pk}"):
        question_update(
            question=question, editor=teacher, prompt="Which?", explanation="", correct=0,
            options=[OptionChange(image_id=pk) for pk in [rejected.pk, *ids[1:]]],
        )  # fmt: skip
    question_update(
        question=question, editor=teacher, prompt="Which shows a knee?", explanation="", correct=3,
        options=[OptionChange(image_id=pk) for pk in ids],
    )  # fmt: skip
    question.refresh_from_db()
    assert question.image == images[3]  # the right image is the one the question is about


def test_settings_refuse_a_closing_time_before_the_opening_time():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS))
    now = timezone.now()
    with pytest.raises(QuizError, match="after the opening time"):
        quiz_update_settings(quiz=quiz, title="Quiz", opens_at=now, closes_at=now - timedelta(hours=1))
    with pytest.raises(QuizError, match="from 1 to 20 attempts"):
        quiz_update_settings(quiz=quiz, title="Quiz", attempts_allowed=0)


def test_results_give_each_students_attempts_and_each_questions_share_right():
    quiz = quiz_from(instructor(), factories.images(*CAPTIONS), attempts_allowed=2, shuffle_questions=False)
    ana = joined(quiz, factories.user("ana"))
    ben = joined(quiz, factories.user("ben"))
    joined(quiz, factories.user("cleo"))  # joined, never handed in
    first = attempt_start(quiz=quiz, user=ana)
    right = right_answers(first)
    quiz_submit(attempt=first, answers={})
    quiz_submit(attempt=attempt_start(quiz=quiz, user=ana), answers=right)
    ids = first.question_ids
    quiz_submit(attempt=attempt_start(quiz=quiz, user=ben), answers={ids[0]: right[ids[0]]})

    by_student = {r.username: r for r in quiz_results_by_student(quiz=quiz)}
    assert [a.score for a in by_student["ana"].attempts] == [0, 4]
    assert by_student["ana"].best.score == 4 and by_student["ben"].best.score == 1
    assert by_student["cleo"].attempts == [] and by_student["cleo"].best is None
    stats = quiz_question_stats(quiz=quiz)
    # A blank is not an answer: ana's empty first attempt counts for no question.
    assert [(s.answered, s.correct) for s in stats] == [(2, 2), (1, 1), (1, 1), (1, 1)]
    assert stats[0].percent_correct == 100
