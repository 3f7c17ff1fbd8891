"""Questions drafted from images: right answers from captions, distractors from other images.

Reads only; `services.quiz_build_from_studyset` stores what this drafts. Distractors come first
from the other images of the study set (on topic for the class), then from the corpus images whose
captions are nearest in the caption embedding space but not near-duplicates, then from other
images of the same modality. A distractor never reads the same as the right answer.

Options must not give the answer away by their form: every option is a caption's first sentence,
whole (never cut mid-sentence), and the distractors are the candidates whose answers are nearest in
length to the right one, with one longer than it whenever one exists, so the right option is not
simply the longest.

Distractors and false true/false statements come only from images everyone may see
(`images_visible_to(None)`), never from the instructor's own unapproved images: their captions
would reach every student who takes the quiz.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, QuerySet, Value, When

from apps.corpus.models import EmbeddingSpace, Image
from apps.corpus.selectors import images_visible_to
from apps.corpus.spaces import CAPTION
from apps.quizzes.models import Question
from apps.search.channels import nearest_images, stored_vector

OPTIONS = 4
# A distractor whose first sentence is longer than this is passed over (the right answer is kept as it is).
MAX_ANSWER_CHARS = 200
# How many distinct candidates, in order of preference, the distractors are chosen from by length.
LENGTH_CHOICE = 4 * OPTIONS
# Captions this close in meaning are treated as saying the same thing, so never offered as a "wrong" answer.
NEAR_DUPLICATE_SIMILARITY = 0.97
NEIGHBOURS = 30
TRUE, FALSE = "True", "False"


@dataclass
class OptionDraft:
    text: str = ""
    image: Image | None = None
    is_correct: bool = False


@dataclass
class QuestionDraft:
    kind: str
    prompt: str
    image: Image
    explanation: str
    options: list[OptionDraft] = field(default_factory=list)


def short_caption(caption: str) -> str:
    """The caption's first sentence (at least 25 characters, so "Fig. 2." is not one), whole."""
    text = " ".join((caption or "").split())
    match = re.match(r"(.{25,}?[.!?])(?:\s|$)", text)
    if match:
        text = match.group(1)
    return text.rstrip(".")


def answer_for(image: Image) -> str:
    """What the image shows, in a line: from its caption, else its keywords, else its modality."""
    return short_caption(image.caption) or ", ".join(image.keywords[:3]) or image.get_modality_display()


def same_answer(a: str, b: str) -> bool:
    """Whether two answers read the same (case, punctuation and spacing ignored)."""
    return _norm(a) == _norm(b)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _public() -> QuerySet[Image]:
    return images_visible_to(None)


def _caption_neighbours(*, image: Image) -> list[Image]:
    """Public images whose captions are nearest in meaning, near-duplicates left out: through the caption
    space's HNSW index, as searches go (a full scan of the space took seconds per question at 100k)."""
    space = EmbeddingSpace.objects.filter(name=CAPTION).first()
    stored = stored_vector(space=space, image_id=image.pk) if space else None
    if stored is None:
        return []
    nearest = nearest_images(
        space=space, vector=stored, limit=2 * NEIGHBOURS, among=_public(), exclude_id=image.pk
    )
    ids = [pk for pk, similarity in nearest if similarity < NEAR_DUPLICATE_SIMILARITY][:NEIGHBOURS]
    found = Image.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def _same_modality_first(*, image: Image) -> Iterable[Image]:
    return (
        _public()
        .exclude(pk=image.pk)
        .annotate(
            other=Case(
                When(modality=image.modality, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("other", "pk")[:NEIGHBOURS]
    )


def _candidates(*, image: Image, pool: list[Image]) -> Iterator[Image]:
    index = next((i for i, other in enumerate(pool) if other.pk == image.pk), -1)
    public = set(_public().filter(pk__in=[other.pk for other in pool]).values_list("pk", flat=True))
    # The set's other public images, starting after this one, so each question gets different ones.
    in_set = [other for other in pool[index + 1 :] + pool[: max(index, 0)] if other.pk in public]
    seen = {image.pk}
    for source in (in_set, _caption_neighbours(image=image)):
        for other in source:
            if other.pk not in seen:
                seen.add(other.pk)
                yield other
    for other in _same_modality_first(image=image):
        if other.pk not in seen:
            seen.add(other.pk)
            yield other


def _distinct(image: Image, candidates: Iterator[Image], n: int, *, need_file: bool) -> list[Image]:
    """Up to n candidates whose answers differ from this image's and from each other's."""
    chosen: list[Image] = []
    answers = [answer_for(image)]
    for other in candidates:
        if need_file and not other.file:
            continue
        text = answer_for(other)
        if any(same_answer(text, taken) for taken in answers):
            continue
        chosen.append(other)
        answers.append(text)
        if len(chosen) == n:
            break
    return chosen


def _like_in_length(answer: str, candidates: list[Image], n: int) -> list[Image]:
    """n of the candidates (kept in their order of preference) whose answers are nearest in length
    to `answer`, one of them longer than it whenever a candidate is, so length does not tell."""
    usable = [other for other in candidates if len(answer_for(other)) <= MAX_ANSWER_CHARS] or candidates
    by_length = sorted(usable, key=lambda other: abs(len(answer_for(other)) - len(answer)))
    chosen = by_length[:n]
    if not any(len(answer_for(other)) > len(answer) for other in chosen):
        longer = next((other for other in by_length[n:] if len(answer_for(other)) > len(answer)), None)
        if longer is not None and chosen:
            chosen[-1] = longer
    return sorted(chosen, key=candidates.index)


def _placed(correct: OptionDraft, wrong: list[OptionDraft], rng: random.Random) -> list[OptionDraft]:
    options = [*wrong]
    options.insert(rng.randrange(len(wrong) + 1), correct)
    return options


def draft_question(
    *, kind: str, image: Image, pool: list[Image], statement_true: bool = True
) -> QuestionDraft | None:
    """One question of `kind` about `image`, or None when too few different images exist for it."""
    answer = answer_for(image)
    rng = random.Random(f"{kind}:{image.pk}")  # stable: building twice drafts the same question
    candidates = _candidates(image=image, pool=pool)
    if kind == Question.WHAT:
        others = _distinct(image, candidates, LENGTH_CHOICE, need_file=False)
        if len(others) < OPTIONS - 1:
            return None
        wrong = [
            OptionDraft(text=answer_for(other)) for other in _like_in_length(answer, others, OPTIONS - 1)
        ]
        options = _placed(OptionDraft(text=answer, is_correct=True), wrong, rng)
        prompt = "What does this image show?"
    elif kind == Question.WHICH:
        others = _distinct(image, candidates, OPTIONS - 1, need_file=True)
        if len(others) < OPTIONS - 1:
            return None
        wrong = [OptionDraft(image=other) for other in others]
        options = _placed(OptionDraft(image=image, is_correct=True), wrong, rng)
        prompt = f"Which image shows: “{answer}”?"
    elif kind == Question.TRUE_FALSE:
        statement = answer
        if not statement_true:
            others = _distinct(image, candidates, 1, need_file=False)
            statement_true = not others
            statement = answer_for(others[0]) if others else answer
        prompt = f"True or false: this image shows “{statement}”."
        options = [
            OptionDraft(text=TRUE, is_correct=statement_true),
            OptionDraft(text=FALSE, is_correct=not statement_true),
        ]
    else:
        raise ValueError(f"unknown question kind {kind!r}")
    return QuestionDraft(kind=kind, prompt=prompt, image=image, explanation=image.caption, options=options)


def draft_questions(*, images: list[Image], kinds: list[str]) -> list[QuestionDraft]:
    """One question per image, the kinds taken in turn; a kind that cannot be drafted for an image
    (too few different images for four options) gives way to the next. True/false always can."""
    drafts: list[QuestionDraft] = []
    true_false_count = 0
    for index, image in enumerate(images):
        turn = [kinds[(index + step) % len(kinds)] for step in range(len(kinds))]
        for kind in [*turn, Question.TRUE_FALSE]:
            draft = draft_question(
                kind=kind, image=image, pool=images, statement_true=true_false_count % 2 == 0
            )
            if draft is not None:
                true_false_count += kind == Question.TRUE_FALSE
                drafts.append(draft)
                break
    return drafts
