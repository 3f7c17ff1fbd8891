"""Drafting questions from a study set: right answers from captions, distractors from other images."""

from __future__ import annotations

import numpy as np
import pytest

from apps.corpus.models import Embedding, EmbeddingSpace
from apps.quizzes.builder import answer_for, draft_question, draft_questions, same_answer, short_caption
from apps.quizzes.models import Option, Question
from apps.quizzes.services import quiz_build_from_studyset
from tests import factories
from tests.quizzes.helpers import CAPTIONS
from tests.studysets.helpers import generated_by, reject, studyset

pytestmark = pytest.mark.django_db


def texts(draft):
    return [o.text for o in draft.options]


def correct(draft):
    return [o for o in draft.options if o.is_correct]


def test_the_short_answer_is_the_captions_first_sentence_without_its_full_stop():
    assert short_caption("Chest X-ray of a smoker showing emphysema. Note the flat diaphragm.") == (
        "Chest X-ray of a smoker showing emphysema"
    )
    assert short_caption("Fig. 2. CT.") == "Fig. 2. CT"  # too short a first "sentence" to cut at
    long_sentence = "Axial CT " + "with contrast " * 20 + "showing a mass"
    assert short_caption(long_sentence + ". Second sentence.") == long_sentence  # never cut mid-sentence


# Captions as the literature writes them: first sentences from a few words to a long clause.
FINDINGS = [
    "a right pneumothorax",
    "bilateral pleural effusions, larger on the left, with compressive atelectasis of both lower lobes",
    "a subdural haematoma",
    "a ring-enhancing lesion in the right frontal lobe with surrounding vasogenic oedema and midline shift",
    "gallstones",
    "a dilated common bile duct measuring 12 mm with intrahepatic biliary dilatation",
    "a displaced fracture of the distal radius",
    "consolidation of the right middle lobe with air bronchograms",
    "a normal study",
    "multiple hypodense liver lesions consistent with metastases from a known colorectal primary",
    "an aortic dissection",
    "a large pericardial effusion with diastolic collapse of the right ventricle",
    "hydronephrosis of the left kidney",
    "a Baker cyst",
    "free intraperitoneal air under both hemidiaphragms after perforation of a duodenal ulcer",
    "a pulmonary embolus in the right lower lobe artery",
]


def test_the_right_option_is_not_the_longest_in_most_generated_questions_and_none_is_cut():
    modalities = ["Chest radiograph", "Axial CT image", "Ultrasound", "Coronal MRI"]
    # Longest first: the images that follow each one in the set (the first distractors tried) are
    # all shorter, so taking distractors by set order alone would make the right option the longest.
    findings = sorted(FINDINGS, key=len, reverse=True)
    captions = [
        f"{modalities[n % 4]} showing {finding}. Follow-up was arranged after {n + 2} weeks."
        for n, finding in enumerate(findings)
    ]
    images = factories.images(*captions)

    drafts = [draft_question(kind=Question.WHAT, image=image, pool=images) for image in images]

    right_is_longest = 0
    for draft, caption in zip(drafts, captions, strict=True):
        right = correct(draft)[0].text
        assert right == caption.split(". ")[0]
        others = [len(text) for text in texts(draft) if text != right]
        right_is_longest += len(right) > max(others)
        for text in texts(draft):
            assert not text.endswith("…") and any(c.split(". ")[0] == text for c in captions)
    # Four options: a random pick is the longest a quarter of the time; the old drafts gave it away.
    assert right_is_longest / len(drafts) <= 0.25, (
        f"right option longest in {right_is_longest} of {len(drafts)}"
    )


def test_what_does_this_show_has_the_caption_right_and_three_other_captions_of_the_set_wrong():
    images = factories.images(*CAPTIONS)

    draft = draft_question(kind=Question.WHAT, image=images[0], pool=images)

    assert draft.prompt == "What does this image show?" and draft.image == images[0]
    assert [o.text for o in correct(draft)] == ["Chest radiograph showing a large right pneumothorax"]
    assert sorted(texts(draft)) == sorted(answer_for(image) for image in images)
    assert draft.explanation == CAPTIONS[0]


def test_a_distractor_never_reads_the_same_as_the_right_answer():
    images = factories.images(
        "Chest X-ray with pneumothorax.", "CHEST X-RAY WITH PNEUMOTHORAX", *CAPTIONS[1:]
    )

    draft = draft_question(kind=Question.WHAT, image=images[0], pool=images)

    options = texts(draft)
    assert len(options) == 4
    assert sum(same_answer(text, "chest x-ray with pneumothorax") for text in options) == 1


def test_which_image_shows_offers_four_different_images_one_of_them_right():
    images = factories.images(*CAPTIONS)

    draft = draft_question(kind=Question.WHICH, image=images[1], pool=images)

    assert draft.prompt == "Which image shows: “Axial CT of the brain with an acute subdural haematoma”?"
    assert {o.image.pk for o in draft.options} == {i.pk for i in images}
    assert [o.image for o in correct(draft)] == [images[1]]


def test_true_false_statements_alternate_between_true_and_a_false_caption():
    images = factories.images(*CAPTIONS)

    drafts = draft_questions(images=images[:2], kinds=[Question.TRUE_FALSE])

    first, second = drafts
    assert texts(first) == ["True", "False"] and correct(first)[0].text == "True"
    assert "right pneumothorax" in first.prompt
    assert correct(second)[0].text == "False"
    assert "subdural" not in second.prompt and second.prompt.startswith("True or false: this image shows “")


def test_kinds_are_taken_in_turn_one_question_per_image():
    images = factories.images(*CAPTIONS)

    drafts = draft_questions(images=images, kinds=[Question.WHAT, Question.WHICH])

    assert [d.kind for d in drafts] == ["what", "which", "what", "which"]
    assert [d.image for d in drafts] == images


def test_a_small_set_borrows_distractors_from_the_corpus_but_never_hidden_images():
    author = factories.user()
    in_set = factories.images("Chest radiograph showing a large right pneumothorax.")
    hidden = factories.images("Rejected picture of a hand.", "Someone's pending synthetic image.")
    reject(hidden[0])
    generated_by(author, hidden[1])
    outside = factories.images(*CAPTIONS[1:])

    draft = draft_question(kind=Question.WHAT, image=in_set[0], pool=in_set)

    assert sorted(texts(draft)[i] for i in range(4) if not draft.options[i].is_correct) == sorted(
        answer_for(image) for image in outside
    )


def test_without_enough_different_images_a_question_falls_back_to_true_or_false():
    images = factories.images("Chest radiograph showing a large right pneumothorax.", "Head CT, axial slice.")

    (draft,) = draft_questions(images=images[:1], kinds=[Question.WHAT, Question.WHICH])

    assert draft.kind == Question.TRUE_FALSE


def test_corpus_distractors_are_the_nearest_different_captions_not_near_duplicates():
    asked, twin, near, middling, far, farther = factories.images(
        "Chest radiograph with a right pneumothorax.",
        "Right pneumothorax on a chest radiograph.",  # means the same: must not be offered as wrong
        "Chest radiograph with a left pleural effusion.",
        "Chest CT with a lung nodule.",
        "Ultrasound of the gallbladder.",
        "Photograph of a skin rash.",
    )
    space = EmbeddingSpace.objects.create(name="caption", model="test", target="caption", dim=3)
    for image, vector in [
        (asked, [1, 0, 0]),
        (twin, [0.999, 0.01, 0]),
        (near, [0.9, 0.3, 0]),
        (middling, [0.7, 0.6, 0]),
        (far, [0.3, 0.9, 0.1]),
        (farther, [0, 0, 1]),
    ]:
        Embedding.objects.create(image=image, space=space, vector=np.array(vector, dtype=np.float32))

    draft = draft_question(kind=Question.WHICH, image=asked, pool=[asked])

    assert {o.image for o in draft.options if not o.is_correct} == {near, middling, far}


def test_the_instructors_own_unapproved_image_never_lends_its_caption_to_other_questions():
    teacher = factories.user(role="instructor")
    private = generated_by(teacher, factories.images("Synthetic chest film with a secret lesion.")[0])
    approved = factories.images(*CAPTIONS)
    pool = [approved[0], private, *approved[1:]]

    quiz = quiz_build_from_studyset(instructor=teacher, studyset=studyset(teacher, pool))

    others = Option.objects.filter(question__quiz=quiz).exclude(question__image=private)
    statements = quiz.questions.exclude(image=private).values_list("prompt", flat=True)
    assert quiz.questions.count() == 5  # the private image still gets its own question (hidden from students)
    assert not any("secret lesion" in o.text or o.image_id == private.pk for o in others)
    assert not any("secret lesion" in prompt for prompt in statements)
    assert quiz.questions.filter(kind=Question.TRUE_FALSE).exclude(image=private).exists()
