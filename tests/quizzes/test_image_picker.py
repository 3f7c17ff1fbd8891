"""The image picker of "Which image shows …?" questions on the question edit page (no JavaScript)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.quizzes.models import Question
from apps.quizzes.services import attempt_start
from tests import factories
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from
from tests.studysets.helpers import reject, studyset

pytestmark = pytest.mark.django_db

FRACTURE = "Which image shows a fracture?"
MORE = ("Coronal CT of the abdomen with appendicitis.", "Lateral X-ray of the ankle with a fracture.")


def _which_question(teacher, images, **settings):
    quiz = quiz_from(teacher, images, kinds=[Question.WHICH], **settings)
    return quiz, quiz.questions.first()


def _edit_url(question) -> str:
    return reverse("quizzes:question_edit", args=[question.quiz_id, question.pk])


def test_the_edit_page_offers_the_study_sets_images_as_thumbnails_with_the_current_ones_ticked(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS, *MORE)
    quiz, question = _which_question(teacher, images, publish=False)
    client.force_login(teacher)

    page = client.get(_edit_url(question)).content.decode()

    offered = {o.image_id for o in question.options.all()}
    right = question.options.get(is_correct=True).image_id
    for image in images:
        assert f'name="images" value="{image.pk}"' in page
        assert f'src="{image.thumbnail.url}"' in page
    ticked = {int(pk) for pk in re.findall(r'name="images" value="(\d+)" checked', page)}
    assert ticked == offered
    assert re.findall(r'name="right_image" value="(\d+)" checked', page) == [str(right)]
    assert "number of a corpus image" not in page  # no typing of database numbers


def test_ticking_another_image_replaces_only_the_unticked_option_and_marks_the_right_one(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS, *MORE)
    quiz, question = _which_question(teacher, images, publish=False)
    before = [o.image_id for o in question.options.all()]
    spare = next(image.pk for image in images if image.pk not in before)
    chosen = [*before[:2], spare, before[3]]  # C swapped for a spare image
    client.force_login(teacher)

    response = client.post(
        _edit_url(question),
        {
            "prompt": FRACTURE,
            "explanation": "",
            "images": chosen,
            "right_image": spare,
        },
    )

    assert response.status_code == 302
    after = list(question.options.values_list("image_id", "is_correct"))
    assert after == [(before[0], False), (before[1], False), (spare, True), (before[3], False)]
    question.refresh_from_db()
    assert question.image_id == spare and question.prompt == FRACTURE


def test_choosing_three_images_is_refused_by_the_service_and_the_choice_is_shown_again(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS, *MORE)
    quiz, question = _which_question(teacher, images, publish=False)
    before = list(question.options.values_list("image_id", "is_correct"))
    three = [o.image_id for o in question.options.all()][:3]
    client.force_login(teacher)

    response = client.post(
        _edit_url(question), {"prompt": "Which?", "images": three, "right_image": three[0]}
    )

    page = response.content.decode()
    assert response.status_code == 400 and "Choose 4 different images." in page
    assert {int(pk) for pk in re.findall(r'name="images" value="(\d+)" checked', page)} == set(three)
    assert list(question.options.values_list("image_id", "is_correct")) == before


def test_a_right_image_that_is_not_offered_is_refused(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS, *MORE)
    quiz, question = _which_question(teacher, images, publish=False)
    offered = [o.image_id for o in question.options.all()]
    spare = next(image.pk for image in images if image.pk not in offered)
    client.force_login(teacher)

    response = client.post(_edit_url(question), {"prompt": "Which?", "images": offered, "right_image": spare})

    assert response.status_code == 400 and "Choose which option is right." in response.content.decode()


def test_a_rejected_image_is_not_offered_by_the_picker_and_cannot_be_posted(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS, *MORE)
    quiz, question = _which_question(teacher, images, publish=False)
    offered = [o.image_id for o in question.options.all()]
    spare = next(image for image in images if image.pk not in offered)
    reject(spare)
    client.force_login(teacher)

    page = client.get(_edit_url(question)).content.decode()
    posted = client.post(
        _edit_url(question),
        {"prompt": "Which?", "images": [*offered[:3], spare.pk], "right_image": offered[0]},
    )

    assert f'value="{spare.pk}"' not in page
    assert posted.status_code == 400
    assert [o.image_id for o in question.options.all()] == offered


def test_after_students_answered_the_images_stay_and_the_wording_can_still_be_fixed(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS, *MORE)
    quiz, question = _which_question(teacher, images)
    attempt_start(quiz=quiz, user=joined(quiz))
    before = list(question.options.values_list("image_id", "is_correct"))
    client.force_login(teacher)

    page = client.get(_edit_url(question)).content.decode()
    response = client.post(_edit_url(question), {"prompt": FRACTURE, "explanation": ""})

    assert 'name="images"' not in page and "they stay as graded" in page
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.prompt == FRACTURE
    assert list(question.options.values_list("image_id", "is_correct")) == before


def test_images_of_the_instructors_other_sets_can_be_picked_but_not_a_strangers(client):
    teacher = instructor()
    images = factories.images(*CAPTIONS)
    quiz, question = _which_question(teacher, images, publish=False)
    (mine,) = factories.images("Lateral X-ray of the ankle with a fracture.")
    (theirs,) = factories.images("Coronal CT of the abdomen with appendicitis.")
    studyset(teacher, [mine], title="Fractures")
    studyset(factories.user(), [theirs], title="Someone else's")
    offered = [o.image_id for o in question.options.all()]
    client.force_login(teacher)

    page = client.get(_edit_url(question)).content.decode()
    saved = client.post(
        _edit_url(question), {"prompt": FRACTURE, "images": [mine.pk, *offered[1:]], "right_image": mine.pk}
    )

    assert f'name="images" value="{mine.pk}"' in page and f'value="{theirs.pk}"' not in page
    assert saved.status_code == 302
    assert list(question.options.values_list("image_id", flat=True)) == [mine.pk, *offered[1:]]
