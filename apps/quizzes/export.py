"""A quiz's results as CSV: scores per attempt, and difficulty per question."""

from __future__ import annotations

import csv
from typing import TextIO

from django.http import HttpResponse
from django.utils.text import slugify

from apps.quizzes.models import Quiz
from apps.quizzes.selectors import quiz_question_stats, quiz_results_by_student
from apps.studysets.export import csv_cell


def results_filename(quiz: Quiz, what: str) -> str:
    return f"{slugify(quiz.title) or 'quiz'}-{quiz.pk}-{what}.csv"


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


class _Writer:
    """csv.writer whose cells go through `csv_cell`, so none can run as a spreadsheet formula."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list) -> None:
        self._writer.writerow([csv_cell(value) for value in row])


def write_scores_csv(*, quiz: Quiz, out: TextIO) -> None:
    """One row per handed-in attempt; a student who joined but has not handed one in gets one empty row."""
    writer = _Writer(out)
    writer.writerow(["student", "name", "attempt", "started", "submitted", "score", "max_score", "percent"])
    for result in quiz_results_by_student(quiz=quiz):
        if not result.attempts:
            writer.writerow([result.username, result.name, "", "", "", "", "", ""])
        for attempt in result.attempts:
            writer.writerow(
                [
                    result.username,
                    result.name,
                    attempt.number,
                    _iso(attempt.started_at),
                    _iso(attempt.submitted_at),
                    attempt.score,
                    attempt.max_score,
                    attempt.percent,
                ]
            )


def write_questions_csv(*, quiz: Quiz, out: TextIO) -> None:
    writer = _Writer(out)
    writer.writerow(["question", "kind", "prompt", "image", "answered", "correct", "share_correct"])
    for stat in quiz_question_stats(quiz=quiz):
        share = stat.share_correct
        writer.writerow(
            [
                stat.number,
                stat.question.kind,
                stat.question.prompt,
                stat.question.image.external_id,
                stat.answered,
                stat.correct,
                "" if share is None else f"{share:.3f}",
            ]
        )


def results_csv_response(*, quiz: Quiz, what: str) -> HttpResponse:
    """`what` = "scores" or "questions", as a CSV download (for the page and the API)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{results_filename(quiz, what)}"'
    write = write_scores_csv if what == "scores" else write_questions_csv
    write(quiz=quiz, out=response)
    return response
