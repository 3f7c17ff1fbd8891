"""The quiz pages of issue 15 in headless Chromium with JavaScript off: the image picker, the question
to confirm before handing in blanks, a student's answers for the instructor and the way to a first
study set; each fits a phone, has unique ids and no serious accessibility problem (axe-core)."""

from __future__ import annotations

import pytest

from apps.quizzes.models import Question
from apps.quizzes.services import attempt_start, quiz_submit
from tests import factories
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    duplicate_ids,
    log_in_context,
    serious_axe_violations,
    sideways_overflow,
)
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _context(browser, user, viewport):
    # No JavaScript: every step here must work without it; axe is injected by the test itself.
    context = browser.new_context(viewport=viewport, java_script_enabled=False, bypass_csp=True)
    log_in_context(context, user)
    return context


def _problems(browser, page_url: str, user) -> list[str]:
    found = []
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        log_in_context(context, user)
        page = context.new_page()
        page.goto(page_url)
        if overflow := sideways_overflow(page):
            found.append(f"{page_url} {name}: {overflow}px wider than the window")
        if name == "desktop":
            found += [f"{page_url}: duplicate ids {ids}" for ids in [duplicate_ids(page)] if ids]
            found += [f"{page_url}: {v}" for v in serious_axe_violations(page)]
        context.close()
    return found


def test_quiz_pages_work_without_javascript_and_pass_axe(live_server, browser):
    base = live_server.url
    images = factories.images(*CAPTIONS, "Coronal CT of the abdomen with appendicitis.")
    teacher = instructor()
    quiz = quiz_from(teacher, images, kinds=[Question.WHICH, Question.WHAT])
    which = quiz.questions.filter(kind=Question.WHICH).first()
    student = joined(quiz, factories.user("sam"))
    done = quiz_submit(attempt=attempt_start(quiz=quiz, user=student), answers={})
    other = joined(quiz, factories.user("kim"))
    begun = attempt_start(quiz=quiz, user=other)

    # The confirmation step, driven without JavaScript: hand in blank, then "Hand in anyway".
    context = _context(browser, other, DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/quizzes/attempts/{begun.pk}/")
    page.get_by_role("button", name="Hand in answers").click()
    assert "You left 5 of 5 questions unanswered" in page.get_by_role("alert").inner_text()
    page.get_by_role("button", name="Hand in anyway").click()
    assert "Score: 0 / 5" in page.locator("p.score").inner_text()
    context.close()

    # The same step checked by axe (which needs JavaScript), for a third student.
    third = joined(quiz, factories.user("lee"))
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    log_in_context(context, third)
    page = context.new_page()
    page.goto(f"{base}/quizzes/attempts/{attempt_start(quiz=quiz, user=third).pk}/")
    page.get_by_role("button", name="Hand in answers").click()
    page.get_by_role("button", name="Hand in anyway").wait_for()
    confirm_problems = [f"confirm step: {v}" for v in serious_axe_violations(page)]
    context.close()

    fresh = instructor()
    problems = confirm_problems
    problems += _problems(browser, f"{base}/quizzes/{quiz.pk}/questions/{which.pk}/", teacher)
    problems += _problems(browser, f"{base}/quizzes/{quiz.pk}/results/", teacher)
    problems += _problems(browser, f"{base}/quizzes/attempts/{done.pk}/", teacher)
    problems += _problems(browser, f"{base}/quizzes/new/", fresh)
    assert not problems, "\n".join(problems)
