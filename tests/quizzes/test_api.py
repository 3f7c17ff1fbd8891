"""The quiz endpoints: who may build, manage, join, take and see results (the quiz's instructor, a
student who joined, an outsider student, another instructor, a moderator, an anonymous client), what
each returns, what a student cannot learn before handing in, and the JSON errors."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.tokens import api_token_create
from apps.quizzes.models import Attempt, Option, Question, Quiz
from apps.quizzes.services import attempt_start, quiz_submit
from apps.studysets.models import StudySet
from tests import factories
from tests.factories import api_as, assert_error
from tests.quizzes.helpers import CAPTIONS, instructor, joined, quiz_from, right_answers
from tests.studysets.helpers import reject, studyset

pytestmark = pytest.mark.django_db

OUTSIDERS = ["student", "instructor", "moderator"]


@pytest.fixture
def world():
    owner = instructor()
    quiz = quiz_from(owner, factories.images(*CAPTIONS))
    participant = joined(quiz)
    return {
        "quiz": quiz,
        "owner": owner,
        "participant": participant,
        "attempt": attempt_start(quiz=quiz, user=participant),
        "student": factories.user(),
        "instructor": instructor(),
        "moderator": factories.user(role="moderator"),
        "anonymous": None,
    }


# --- building ---------------------------------------------------------------------------------------


def test_an_instructor_with_a_token_builds_a_draft_quiz_from_a_study_set():
    teacher = instructor()
    source = studyset(teacher, factories.images(*CAPTIONS), title="Emergency imaging")
    _, raw = api_token_create(user=teacher, name="course script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api.post(
        "/api/quizzes/", {"studyset": source.pk, "kinds": ["what", "truefalse"], "count": 3}, format="json"
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["title"], body["state"], body["is_owner"], body["join_code"]) == (
        "Quiz: Emergency imaging",
        "draft",
        True,
        None,
    )
    assert body["question_count"] == 3 and body["studyset"] == source.pk
    questions = api.get(f"/api/quizzes/{body['id']}/questions/").json()["results"]
    assert [q["kind"] for q in questions] == ["what", "truefalse", "what"]
    assert [q["number"] for q in questions] == [1, 2, 3]
    assert all(sum(o["is_correct"] for o in q["options"]) == 1 for q in questions)
    assert questions[0]["image"]["caption"] == CAPTIONS[0] and questions[0]["shown_to_students"]


@pytest.mark.parametrize("role", ["student", "moderator"])
def test_only_instructors_build_quizzes(role):
    user = factories.user(role=role)
    source = studyset(user, factories.images(*CAPTIONS[:1]))
    response = api_as(user).post("/api/quizzes/", {"studyset": source.pk}, format="json")
    assert "Only instructors" in assert_error(response, 403, "permission_denied")["message"]
    assert_error(api_as(None).post("/api/quizzes/", {"studyset": source.pk}), 401, "not_authenticated")
    assert not Quiz.objects.exists()


def test_a_quiz_is_built_from_an_own_or_public_set_never_from_a_private_or_empty_one(settings):
    teacher, student = instructor(), factories.user()
    images = factories.images(*CAPTIONS)
    public = studyset(student, images, visibility=StudySet.PUBLIC)
    private = studyset(student, images)
    api = api_as(teacher)

    assert api.post("/api/quizzes/", {"studyset": public.pk}, format="json").status_code == 201
    assert_error(api.post("/api/quizzes/", {"studyset": private.pk}, format="json"), 404, "not_found")
    empty = api.post("/api/quizzes/", {"studyset": studyset(teacher).pk}, format="json")
    assert "no images" in assert_error(empty, 409, "conflict")["message"]
    settings.MIRAGE_QUIZ_MAX_QUESTIONS = 2
    too_many = api.post("/api/quizzes/", {"studyset": public.pk, "count": 3}, format="json")
    assert list(assert_error(too_many, 400, "invalid")["fields"]) == ["count"]
    no_kind = api.post("/api/quizzes/", {"studyset": public.pk, "kinds": []}, format="json")
    assert list(assert_error(no_kind, 400, "invalid")["fields"]) == ["kinds"]
    assert Quiz.objects.count() == 1


# --- reading, managing ------------------------------------------------------------------------------


def test_the_instructor_sees_the_join_code_and_a_student_who_joined_sees_their_attempts(world):
    quiz = world["quiz"]

    own = api_as(world["owner"]).get(f"/api/quizzes/{quiz.pk}/").json()
    theirs = api_as(world["participant"]).get(f"/api/quizzes/{quiz.pk}/").json()

    assert own["join_code"] == quiz.join_code and own["join_url"].endswith(f"?code={quiz.join_code}")
    assert (own["participant_count"], own["question_count"], own["locked"]) == (1, 4, True)
    assert (theirs["join_code"], theirs["question_count"], theirs["is_owner"]) == (None, None, False)
    assert theirs["state"] == "open" and theirs["attempts_left"] == 0
    assert theirs["unfinished_attempt"] == world["attempt"].pk
    assert [a["number"] for a in theirs["your_attempts"]] == [1]


@pytest.mark.parametrize("role", [*OUTSIDERS, "anonymous"])
def test_outsiders_cannot_see_a_quiz_or_start_it(world, role):
    api = api_as(world[role])
    quiz = world["quiz"]
    status, code = (401, "not_authenticated") if role == "anonymous" else (404, "not_found")
    assert_error(api.get(f"/api/quizzes/{quiz.pk}/"), status, code)
    assert_error(api.post(f"/api/quizzes/{quiz.pk}/attempts/"), status, code)
    assert_error(api.get(f"/api/quizzes/attempts/{world['attempt'].pk}/"), status, code)
    assert_error(api.post(f"/api/quizzes/attempts/{world['attempt'].pk}/submit/", {}), status, code)


def manage_requests(quiz: Quiz) -> list[tuple[str, str, dict]]:
    question = quiz.questions.first()
    base = f"/api/quizzes/{quiz.pk}"
    return [
        ("get", f"{base}/questions/", {}),
        ("get", f"{base}/questions/{question.pk}/", {}),
        ("patch", f"{base}/questions/{question.pk}/", {"prompt": "Taken over?"}),
        ("delete", f"{base}/questions/{question.pk}/", {}),
        ("patch", f"{base}/", {"title": "Taken over", "attempts_allowed": 9}),
        ("post", f"{base}/publish/", {}),
        ("get", f"{base}/results/", {}),
        ("get", f"{base}/results/scores.csv", {}),
        ("get", f"{base}/results/questions.csv", {}),
        ("delete", f"{base}/", {}),
    ]


@pytest.mark.parametrize("role", ["participant", *OUTSIDERS, "anonymous"])
def test_only_the_quiz_s_instructor_manages_it(world, role):
    quiz = world["quiz"]
    api = api_as(world[role])
    expected = {"participant": (403, "permission_denied"), "anonymous": (401, "not_authenticated")}

    for method, url, data in manage_requests(quiz):
        response = getattr(api, method)(url, data, format="json") if data else getattr(api, method)(url)
        assert_error(response, *expected.get(role, (404, "not_found")))

    quiz.refresh_from_db()
    assert quiz.title != "Taken over" and quiz.questions.count() == 4


def test_the_instructor_changes_settings_one_at_a_time_and_bad_ones_are_refused(world):
    quiz = world["quiz"]
    api = api_as(world["owner"])
    closes = timezone.now() + timedelta(days=7)

    changed = api.patch(
        f"/api/quizzes/{quiz.pk}/", {"closes_at": closes.isoformat(), "attempts_allowed": 3}, format="json"
    )
    backwards = api.patch(
        f"/api/quizzes/{quiz.pk}/", {"opens_at": (closes + timedelta(days=1)).isoformat()}, format="json"
    )
    too_many = api.patch(f"/api/quizzes/{quiz.pk}/", {"attempts_allowed": 21}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["attempts_allowed"], changed.json()["title"]) == (3, quiz.title)
    assert "closing time" in assert_error(backwards, 400, "invalid")["message"]
    assert list(assert_error(too_many, 400, "invalid")["fields"]) == ["attempts_allowed"]
    quiz.refresh_from_db()
    assert (quiz.attempts_allowed, quiz.closes_at, quiz.opens_at) == (3, closes, None)


def test_a_draft_is_edited_question_by_question_then_published():
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS), publish=False)
    what, which, truefalse, _ = quiz.questions.order_by("position")
    other_images = factories.images("Knee X-ray.", "Hand X-ray.", "Foot X-ray.", "Spine X-ray.")
    api = api_as(teacher)
    base = f"/api/quizzes/{quiz.pk}/questions"

    texts = ["Pneumothorax", "Haematoma", "Gallstones", "ACL tear"]
    edited = api.patch(f"{base}/{what.pk}/", {"option_texts": texts, "correct": 0}, format="json")
    pictures = api.patch(
        f"{base}/{which.pk}/", {"option_images": [i.pk for i in other_images], "correct": 2}, format="json"
    )
    wrong_kind = api.patch(f"{base}/{truefalse.pk}/", {"option_texts": texts}, format="json")
    same_twice = api.patch(f"{base}/{what.pk}/", {"option_texts": ["A", "a", "B", "C"]}, format="json")
    deleted = api.delete(f"{base}/{truefalse.pk}/")
    published = api.post(f"/api/quizzes/{quiz.pk}/publish/")

    assert edited.status_code == 200
    assert [(o["letter"], o["text"], o["is_correct"]) for o in edited.json()["options"]] == [
        ("A", "Pneumothorax", True),
        ("B", "Haematoma", False),
        ("C", "Gallstones", False),
        ("D", "ACL tear", False),
    ]
    assert edited.json()["prompt"] == what.prompt  # left out, so kept
    assert pictures.json()["image"]["id"] == other_images[2].pk  # the right image is the one asked about
    assert list(assert_error(wrong_kind, 400, "invalid")["fields"]) == ["option_texts"]
    assert "read the same" in assert_error(same_twice, 400, "invalid")["message"]
    assert deleted.status_code == 204 and quiz.questions.count() == 3
    assert published.status_code == 200 and published.json()["state"] == "open"
    assert len(published.json()["join_code"]) == 8


def test_once_taken_questions_keep_their_answers_but_typos_and_explanations_can_be_fixed(world):
    quiz = world["quiz"]
    question = quiz.questions.first()
    right = next(i for i, o in enumerate(question.options.all()) if o.is_correct)
    api = api_as(world["owner"])
    url = f"/api/quizzes/{quiz.pk}/questions/{question.pk}/"

    fixed = api.patch(
        url, {"prompt": "What does this image show?", "explanation": "See the pleural line."}, format="json"
    )
    regrade = api.patch(url, {"correct": (right + 1) % 2}, format="json")
    delete = api.delete(url)

    assert fixed.status_code == 200 and fixed.json()["explanation"] == "See the pleural line."
    assert "not which answer is right" in assert_error(regrade, 409, "conflict")["message"]
    assert_error(delete, 409, "conflict")
    assert quiz.questions.count() == 4


def test_the_instructor_deletes_a_quiz():
    teacher = instructor()
    quiz = quiz_from(teacher, factories.images(*CAPTIONS[:1]))
    api = api_as(teacher)
    assert api.delete(f"/api/quizzes/{quiz.pk}/").status_code == 204
    assert_error(api.get(f"/api/quizzes/{quiz.pk}/"), 404, "not_found")


# --- joining, taking --------------------------------------------------------------------------------


def test_a_student_joins_with_the_code_in_any_case_and_a_wrong_code_is_a_404(world):
    student = world["student"]
    api = api_as(student)

    wrong = api.post("/api/quizzes/join/", {"code": "ZZZZZZ"}, format="json")
    blank = api.post("/api/quizzes/join/", {}, format="json")
    joined_ = api.post("/api/quizzes/join/", {"code": f" {world['quiz'].join_code.lower()} "}, format="json")

    assert_error(wrong, 404, "not_found")
    assert list(assert_error(blank, 400, "invalid")["fields"]) == ["code"]
    assert joined_.status_code == 200 and joined_.json()["id"] == world["quiz"].pk
    assert [q["id"] for q in api.get("/api/quizzes/", {"role": "joined"}).json()["results"]] == [
        world["quiz"].pk
    ]
    assert_error(api_as(None).post("/api/quizzes/join/", {"code": "ZZZZZZ"}), 401, "not_authenticated")


def test_while_taking_a_student_sees_pictures_but_no_answer_caption_or_image_id(world):
    response = api_as(world["participant"]).get(f"/api/quizzes/attempts/{world['attempt'].pk}/")

    body = response.json()
    assert response.status_code == 200 and body["is_submitted"] is False and body["score"] is None
    assert len(body["questions"]) == 4
    for question in body["questions"]:
        assert (
            question["is_correct"] is None and question["explanation"] is None and question["image"] is None
        )
        assert all(o["is_correct"] is None and o["image"] is None for o in question["options"])
        pictures = [question["picture"], *(o["picture"] for o in question["options"])]
        assert all(set(p) == {"image_url", "thumbnail_url", "width", "height"} for p in pictures if p)
    which = next(q for q in body["questions"] if q["kind"] == "which")
    assert which["picture"] is None and all(o["picture"]["image_url"] for o in which["options"])
    text = response.content.decode()
    assert not any(caption in text for caption in CAPTIONS)


def test_a_student_starts_hands_in_and_sees_the_score_with_feedback(world):
    quiz = world["quiz"]
    student = joined(quiz, factories.user())
    api = api_as(student)

    started = api.post(f"/api/quizzes/{quiz.pk}/attempts/")
    again = api.post(f"/api/quizzes/{quiz.pk}/attempts/")  # continues the same attempt
    attempt = Attempt.objects.get(pk=started.json()["id"])
    answers = [{"question": q, "option": o} for q, o in right_answers(attempt).items()]
    answers[-1]["option"] = None  # one left blank
    submitted = api.post(f"/api/quizzes/attempts/{attempt.pk}/submit/", {"answers": answers}, format="json")
    twice = api.post(f"/api/quizzes/attempts/{attempt.pk}/submit/", {"answers": []}, format="json")

    assert started.status_code == 200 and again.json()["id"] == attempt.pk
    body = submitted.json()
    assert submitted.status_code == 200 and body["is_submitted"] is True
    assert (body["score"], body["max_score"], body["percent"]) == (3, 4, 75)
    blank = next(q for q in body["questions"] if q["id"] == answers[-1]["question"])
    assert blank["is_correct"] is False and blank["chosen_option"] is None
    for question in body["questions"]:
        assert question["explanation"] and question["image"]["caption"] in CAPTIONS
        assert sum(o["is_correct"] for o in question["options"]) == 1
    assert_error(twice, 409, "conflict")
    assert api.get(f"/api/quizzes/attempts/{attempt.pk}/").json()["score"] == 3
    assert [a["id"] for a in api.get("/api/quizzes/attempts/").json()["results"]] == [attempt.pk]


def test_the_instructor_reads_an_attempt_but_only_its_student_hands_it_in(world):
    attempt = world["attempt"]
    owner = api_as(world["owner"])

    read = owner.get(f"/api/quizzes/attempts/{attempt.pk}/")
    submit = owner.post(f"/api/quizzes/attempts/{attempt.pk}/submit/", {"answers": []}, format="json")

    assert read.status_code == 200 and read.json()["student"] == world["participant"].username
    assert_error(submit, 403, "permission_denied")
    attempt.refresh_from_db()
    assert not attempt.is_submitted


def test_answers_that_do_not_fit_the_attempt_are_refused_and_nothing_is_stored(world):
    attempt = world["attempt"]
    api = api_as(world["participant"])
    first, second = attempt.question_ids[:2]
    foreign = Option.objects.filter(question_id=second).first().pk
    url = f"/api/quizzes/attempts/{attempt.pk}/submit/"

    mismatched = api.post(url, {"answers": [{"question": first, "option": foreign}]}, format="json")
    duplicated = api.post(url, {"answers": [{"question": first}, {"question": first}]}, format="json")
    malformed = api.post(url, {"answers": [{"question": "first"}]}, format="json")

    assert "does not belong" in assert_error(mismatched, 400, "invalid")["message"]
    assert list(assert_error(duplicated, 400, "invalid")["fields"]) == ["answers"]
    assert list(assert_error(malformed, 400, "invalid")["fields"]) == ["answers"]
    attempt.refresh_from_db()
    assert not attempt.is_submitted and not attempt.answers.exists()


def test_a_draft_or_closed_quiz_cannot_be_started(world):
    teacher = world["owner"]
    draft = quiz_from(teacher, factories.images(*CAPTIONS[:1]), publish=False)
    closed = quiz_from(
        teacher, factories.images(*CAPTIONS[:1]), closes_at=timezone.now() - timedelta(hours=1)
    )
    api = api_as(teacher)

    assert (
        "not published"
        in assert_error(api.post(f"/api/quizzes/{draft.pk}/attempts/"), 409, "conflict")["message"]
    )
    assert (
        "closed"
        in assert_error(api.post(f"/api/quizzes/{closed.pk}/attempts/"), 403, "permission_denied")["message"]
    )


# --- results ----------------------------------------------------------------------------------------


def test_the_instructor_sees_results_per_student_and_per_question_and_downloads_them(world):
    quiz, attempt = world["quiz"], world["attempt"]
    quiz_submit(attempt=attempt, answers=right_answers(attempt))
    joined(quiz, factories.user(username="zoe"))
    api = api_as(world["owner"])

    results = api.get(f"/api/quizzes/{quiz.pk}/results/").json()
    scores = api.get(f"/api/quizzes/{quiz.pk}/results/scores.csv", HTTP_ACCEPT="text/csv")
    questions = api.get(f"/api/quizzes/{quiz.pk}/results/questions.csv")

    by_name = {s["username"]: s for s in results["students"]}
    assert by_name["zoe"]["attempts"] == [] and by_name["zoe"]["best"] is None
    mine = by_name[world["participant"].username]
    assert mine["best"] == attempt.pk and mine["attempts"][0]["percent"] == 100
    assert [(q["number"], q["answered"], q["correct"], q["share_correct"]) for q in results["questions"]] == [
        (n, 1, 1, 1.0) for n in range(1, 5)
    ]
    assert scores.status_code == 200 and scores["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(scores.content.decode())))
    assert [(r["student"], r["score"]) for r in rows] == [(world["participant"].username, "4"), ("zoe", "")]
    assert questions["Content-Type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(questions.content.decode())))) == 4


def test_the_quiz_list_shows_what_each_user_built_and_joined_a_page_at_a_time(world):
    # Another instructor who built a quiz of their own and joined this one as a student.
    colleague = joined(world["quiz"], world["instructor"])
    own_quiz = quiz_from(colleague, factories.images(*CAPTIONS), publish=False)
    owner, student = api_as(world["owner"]), api_as(colleague)

    (owned,) = owner.get("/api/quizzes/").json()["results"]
    everything = student.get("/api/quizzes/", {"page_size": 1}).json()
    only_joined = student.get("/api/quizzes/", {"role": "joined"}).json()["results"]
    only_owned = student.get("/api/quizzes/", {"role": "owned"}).json()["results"]

    assert (owned["id"], owned["is_owner"], owned["question_count"], owned["participant_count"]) == (
        world["quiz"].pk,
        True,
        4,
        2,
    )
    assert owned["join_code"] == world["quiz"].join_code
    assert everything["count"] == 2 and [q["id"] for q in everything["results"]] == [own_quiz.pk]
    assert [q["id"] for q in student.get(everything["next"]).json()["results"]] == [world["quiz"].pk]
    (joined_quiz,) = only_joined
    assert (joined_quiz["id"], joined_quiz["is_owner"], joined_quiz["join_code"]) == (
        world["quiz"].pk,
        False,
        None,
    )
    assert joined_quiz["question_count"] is None and joined_quiz["participant_count"] is None
    assert [q["id"] for q in only_owned] == [own_quiz.pk]
    assert_error(student.get("/api/quizzes/", {"role": "taught"}), 400, "invalid")
    assert_error(api_as(None).get("/api/quizzes/"), 401, "not_authenticated")


def test_a_rejected_image_takes_the_questions_that_show_it_out_for_students(world):
    quiz = world["quiz"]
    reject(quiz.questions.get(kind=Question.TRUE_FALSE).image)  # also an option of the `which` question
    api = api_as(world["owner"])

    listed = api.get(f"/api/quizzes/{quiz.pk}/questions/").json()["results"]

    assert [(q["kind"], q["shown_to_students"]) for q in listed] == [
        ("what", True),
        ("which", False),
        ("truefalse", False),
        ("what", True),
    ]
    assert api.get(f"/api/quizzes/{quiz.pk}/").json()["hidden_question_count"] == 2
