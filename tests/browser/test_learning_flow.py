"""Sign up → search → save to a study set → an instructor builds a quiz from it → a student takes it
→ the instructor sees the result, in headless Chromium through the real forms."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from apps.quizzes.models import Attempt
from apps.studysets.models import StudySet
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CAPTIONS = (
    "Chest radiograph showing a large right pneumothorax.",
    "Chest radiograph with a small apical pneumothorax after line insertion.",
    "Chest CT showing a pneumothorax and surgical emphysema.",
    "Supine chest radiograph with a deep sulcus sign of pneumothorax.",
)


def log_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_from_sign_up_to_a_quiz_result(live_server, page, browser):
    factories.images(*CAPTIONS, article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    factories.user("teacher", role="instructor")
    base = live_server.url

    # A student signs up and saves every pneumothorax result into a study set.
    page.goto(base + "/accounts/signup/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Email").fill("sam@example.org")
    page.locator("#id_password1").fill(factories.PASSWORD)
    page.locator("#id_password2").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(lambda url: "/signup/" not in url)

    page.goto(base + "/?q=pneumothorax")
    cards = page.locator("ol.results > li")
    assert cards.count() == 4
    for index in range(4):  # each save swaps its own control in place (htmx)
        card = cards.nth(index)
        card.get_by_role("button", name="Save to study set").click()
        card.get_by_role("status").filter(has_text="“My first study set”").wait_for()
    studyset = StudySet.objects.get(owner__username="sam")
    assert studyset.items.count() == 4

    # … and shares it publicly.
    page.goto(f"{base}/studysets/{studyset.pk}/edit/")
    page.get_by_label("Title").fill("Pneumothorax")
    page.get_by_label("Public: listed for everyone").check()
    page.get_by_role("button", name="Save changes").click()
    assert page.locator("h1").inner_text() == "Pneumothorax"

    # The instructor finds it among the public sets, builds a quiz from it and publishes it.
    teacher_context = browser.new_context()
    try:
        teacher = teacher_context.new_page()
        teacher.set_default_timeout(15_000)
        log_in(teacher, base, "teacher")
        teacher.goto(base + "/studysets/public/?q=pneumo")
        teacher.get_by_role("link", name="Pneumothorax").click()
        teacher.get_by_role("link", name="Build a quiz from this set").click()
        teacher.get_by_role("button", name="Build quiz").click()
        teacher.wait_for_url("**/manage/")
        assert teacher.locator("ol.questions > li").count() == 4
        teacher.get_by_role("button", name="Publish and get a join code").click()
        code = teacher.locator("#join-code").inner_text().strip()
        assert re.fullmatch(r"[A-Z0-9]{8}", code)

        # The student joins with the code and takes the quiz, getting all but the first question right.
        page.goto(base + "/quizzes/")
        page.get_by_label("Join code").fill(code.lower())
        page.get_by_role("button", name="Join quiz").click()
        page.get_by_role("button", name="Start attempt").click()
        page.wait_for_url("**/quizzes/attempts/*/")
        attempt = Attempt.objects.get(user__username="sam")
        for question_id in attempt.question_ids[1:]:
            option = attempt.quiz.questions.get(pk=question_id).options.get(is_correct=True)
            page.locator(f"#q{question_id}-o{option.pk}").check()
        page.get_by_role("button", name="Hand in answers").click()
        # A blank asks first (a page from the server, no JavaScript needed) and keeps the answers.
        warning = page.get_by_role("alert").filter(has_text="unanswered")
        assert "You left 1 of 4 questions unanswered: question 1." in warning.inner_text()
        assert page.locator("input[type=radio]:checked").count() == 3
        assert not Attempt.objects.get(pk=attempt.pk).is_submitted
        page.get_by_role("button", name="Hand in anyway").click()
        assert "Score: 3 / 4 (75%)" in page.locator("p.score").inner_text()
        assert "Not answered" in page.locator("ol.questions").inner_text()
        assert (
            page.get_by_role("link", name="Source article")
            .first.get_attribute("href")
            .endswith("/PMC3970251/")
        )

        # The instructor sees the student's score and each question's difficulty.
        teacher.get_by_role("link", name="Results").first.click()
        scores = teacher.locator("#scores").inner_text()
        assert "sam" in scores and "3 / 4 (75%)" in scores
        assert teacher.locator("#difficulty tbody tr").count() == 4

        # … and opens sam's answers from the table: the blank, and the right answer to each question.
        teacher.locator("#scores a", has_text="attempt 1: 3 / 4").click()
        answers = teacher.locator("ol.questions").inner_text()
        assert answers.count("(right answer)") == 4 and answers.count("sam's answer: right") == 3
        assert "Not answered" in answers
    finally:
        teacher_context.close()
