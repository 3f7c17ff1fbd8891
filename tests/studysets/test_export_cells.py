"""CSV exports cannot carry a formula into a spreadsheet: text beginning with =, +, -, @, a tab or a
carriage return is written as text (a leading apostrophe), in study-set and quiz-result exports."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from apps.corpus.models import Image
from apps.quizzes.export import write_questions_csv, write_scores_csv
from apps.quizzes.services import attempt_start, quiz_submit
from apps.studysets.export import csv_cell, studyset_export_zip
from apps.studysets.models import StudySet
from apps.studysets.services import studyset_add_image
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers
from tests.studysets.helpers import studyset

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_that_begins_like_a_formula_is_written_as_text(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Chest X-ray", "a = b", "", 42, -1, None, "1-2"])
def test_other_cells_are_left_as_they_are(value):
    assert csv_cell(value) == value


def test_the_study_set_export_neutralises_captions_and_notes():
    owner = factories.user()
    images = factories.images(*(f"Image {n}." for n in range(len(HOSTILE))))
    for image, caption in zip(images, HOSTILE, strict=True):  # as stored, whatever an importer trims
        Image.objects.filter(pk=image.pk).update(caption=caption)
    exported = studyset(owner, title="=cmd|' /C calc'!A0")
    for image in images:
        studyset_add_image(studyset=exported, user=owner, image_id=image.pk, note="=1+1")
    out = io.BytesIO()

    studyset_export_zip(studyset=StudySet.objects.get(pk=exported.pk), user=owner, out=out)

    text = zipfile.ZipFile(out).read("images.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["caption"] for row in rows] == ["'" + caption for caption in HOSTILE]
    assert {row["note"] for row in rows} == {"'=1+1"}
    assert all(row["position"].isdecimal() for row in rows)


def test_quiz_result_exports_neutralise_names_and_prompts():
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS))
    quiz.questions.filter(position=0).update(prompt="=IMPORTXML(A1)")
    student = joined(quiz, factories.user("-ana", first_name="@evil", last_name="name"))
    attempt = attempt_start(quiz=quiz, user=student)
    quiz_submit(attempt=attempt, answers=right_answers(attempt))
    scores, questions = io.StringIO(), io.StringIO()

    write_scores_csv(quiz=quiz, out=scores)
    write_questions_csv(quiz=quiz, out=questions)

    (row,) = csv.DictReader(io.StringIO(scores.getvalue()))
    assert (row["student"], row["name"], row["score"]) == ("'-ana", "'@evil name", "4")
    prompts = [r["prompt"] for r in csv.DictReader(io.StringIO(questions.getvalue()))]
    assert prompts[0] == "'=IMPORTXML(A1)" and not any(p.startswith("=") for p in prompts)
