"""Every main page, logged out and logged in, on a 390 px phone and a 1,280 px desktop: nothing scrolls
sideways, no id appears twice, and axe-core finds no serious or critical accessibility problem.

With MIRAGE_SCREENSHOTS=1 the same visits write docs/screenshots/*.png for the README."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from apps.corpus.models import Image
from apps.quizzes.services import (
    attempt_start,
    quiz_build_from_studyset,
    quiz_join,
    quiz_publish,
    quiz_submit,
)
from apps.search.evaluation import KEYWORDS_TO_CAPTION, TEXT_TO_IMAGE, _score, evaluation_dir, write_csv
from apps.studysets.models import StudySet
from tests import factories
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    duplicate_ids,
    log_in_context,
    serious_axe_violations,
    sideways_overflow,
)
from tests.studysets.helpers import studyset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = os.environ.get("MIRAGE_SCREENSHOTS") == "1"
LONG_URL = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/figure/F1/?report=objectonly&from=a-very-long-attribution-link"
CAPTIONS = (
    "Chest radiograph showing a large right pneumothorax with a collapsed right lung and mediastinal shift.",
    "Axial CT of the brain with an acute subdural haematoma.",
    "Ultrasound of the gallbladder with multiple gallstones.",
    "Sagittal MRI of the knee showing an anterior cruciate ligament tear.",
)


def build_site() -> dict[str, str]:
    """A small corpus, a public study set, a published quiz with an attempt under way, a pending
    generated image; returns the path of each main page."""
    images = factories.images(*CAPTIONS, pmc_id="PMC3970251", article_url=LONG_URL)
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    ada = factories.user("ada", is_superuser=True, is_staff=True)  # sees every page, moderation included
    teacher = factories.user("teacher", role="instructor")
    Image.objects.filter(pk=images[3].pk).update(
        is_synthetic=True, owner=teacher, moderation_state=Image.PENDING
    )
    shared = studyset(ada, images[:3], title="Chest and brain emergencies", visibility=StudySet.PUBLIC)
    quiz = quiz_publish(
        quiz=quiz_build_from_studyset(instructor=teacher, studyset=studyset(teacher, images[:3]))
    )
    quiz_join(user=ada, code=quiz.join_code)
    attempt = attempt_start(quiz=quiz, user=ada)
    # Ada's own quiz, handed in by a student who got its first question wrong: its results have charts.
    own = quiz_publish(quiz=quiz_build_from_studyset(instructor=ada, studyset=shared))
    bo = factories.user("bo")
    quiz_join(user=bo, code=own.join_code)
    first = own.questions.order_by("position").first()
    answers = {q.pk: q.options.filter(is_correct=q.pk != first.pk).first().pk for q in own.questions.all()}
    quiz_submit(attempt=attempt_start(quiz=own, user=bo), answers=answers)
    # A retrieval evaluation for the staff page (the settings' VAR_DIR is the test's own folder).
    ks = [1, 5, 10]
    scores = [_score(TEXT_TO_IMAGE, "clip", [1, 3, None], ks)] + [
        _score(KEYWORDS_TO_CAPTION, channel, [1, 2, 12], ks)
        for channel in ("caption", "text", "fused (caption + text)", "paper (exact CLIP)")
    ]
    write_csv(evaluation_dir() / "retrieval-validation.csv", scores, ks)
    return {
        "search": "/?q=collapsed+lung+on+chest+x-ray",
        "image": f"/images/{images[0].pk}/",
        "compare": "/compare/?mode=pair&a=pneumothorax&b=gallstones&k=4",
        "map": "/map/?q=chest+x-ray&add=pneumonia&sub=pneumothorax",
        "generate": "/generate/",
        "studysets": "/studysets/",
        "studyset": f"/studysets/{shared.pk}/",
        "quizzes": "/quizzes/",
        "attempt": f"/quizzes/attempts/{attempt.pk}/",
        "results": f"/quizzes/{own.pk}/results/",
        "evaluation": "/search/evaluation/",
        "moderation": "/moderation/",
        "profile": "/accounts/profile/",
        "tokens": "/accounts/tokens/",
        "api-docs": "/api/docs/",
    }


PAGES = [
    "search",
    "image",
    "compare",
    "map",
    "generate",
    "studysets",
    "studyset",
    "quizzes",
    "attempt",
    "results",
    "evaluation",
    "moderation",
    "profile",
    "tokens",
    "api-docs",
]
SCREENSHOT_PAGES = {"search", "image", "compare", "map", "studyset", "attempt"}


def save_small_png(png: bytes, path: Path) -> None:
    """The README's screenshots, reduced to 64 colours (a third of the size, still legible)."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as shot:
        shot.convert("RGB").quantize(colors=64).save(path, optimize=True)


def visit(browser, live_server, path: str, *, user, viewport):
    context = browser.new_context(viewport=viewport, bypass_csp=True)  # axe is injected inline
    if user is not None:
        log_in_context(context, user)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")
    if path.startswith("/map/"):  # the query is placed after the points are drawn
        expect(page.locator("#atlas-status")).to_contain_text("ringed")
    return page


@pytest.mark.parametrize("name", PAGES)
def test_main_page_fits_the_screen_has_unique_ids_and_no_serious_accessibility_problem(
    live_server, browser, name, settings, tmp_path
):
    from apps.accounts.models import User

    settings.VAR_DIR = tmp_path
    paths = build_site()
    problems: list[str] = []
    for who, user in (("anonymous", None), ("logged in", User.objects.get(username="ada"))):
        for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = visit(browser, live_server, paths[name], user=user, viewport=viewport)
            if overflow := sideways_overflow(page):
                problems.append(f"{who}, {width}: the page is {overflow}px wider than the window")
            if width == "desktop":
                if ids := duplicate_ids(page):
                    problems.append(f"{who}: duplicate ids {ids}")
                problems += [f"{who}: {violation}" for violation in serious_axe_violations(page)]
            if SHOTS and user is not None and name in SCREENSHOT_PAGES:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                save_small_png(page.screenshot(), SCREENSHOTS / f"{name}-{width}.png")
            page.context.close()
    assert not problems, f"{paths[name]}:\n" + "\n".join(problems)


def test_the_phone_header_is_one_line_and_its_menu_opens_without_javascript(live_server, browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("header.site").bounding_box()["height"] <= 64
    assert not page.get_by_role("link", name="Compare", exact=True).is_visible()
    page.get_by_text("Menu").click()
    page.get_by_role("link", name="Compare", exact=True).click()
    page.wait_for_url("**/compare/")
    context.close()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.get_by_role("link", name="Map", exact=True).is_visible()  # links sit in the bar on a desktop
    assert not page.get_by_text("Menu").is_visible()
    context.close()
