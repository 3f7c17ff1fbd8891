"""The moderation endpoints: queue, review, decide, report and the decision log, for every kind of
visitor, through the same services and access checks as the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.core.tokens import api_token_create
from apps.corpus.models import Image
from apps.moderation.models import Decision, Report
from apps.moderation.services import image_report, moderation_decide
from tests import factories
from tests.moderation.conftest import ROLES, synthetic_image

pytestmark = pytest.mark.django_db

MODERATORS_ONLY = {"owner": 403, "student": 403, "instructor": 403, "moderator": 200, "anonymous": 401}
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found", 409: "conflict"}


@pytest.fixture
def api_as(people):
    """`api_as(role)` → an API client authenticated as that person (or anonymous)."""

    def as_role(role: str) -> APIClient:
        api = APIClient()
        if getattr(people, role) is not None:
            api.force_authenticate(getattr(people, role))
        return api

    return as_role


def assert_error(response, status: int, message: str = "") -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == ERROR_CODES.get(status, "invalid")
    assert message in error["message"]
    return error


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url", ["/api/moderation/queue/", "/api/moderation/decisions/", "/api/moderation/images/{pk}/"]
)
def test_moderation_reads_are_for_moderators_only(api_as, people, role, url):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner)

    response = api_as(role).get(url.format(pk=image.pk))

    if role == "moderator":
        assert response.status_code == 200
    else:
        assert_error(response, MODERATORS_ONLY[role])


@pytest.mark.parametrize("role", ROLES)
def test_only_a_moderator_can_decide(api_as, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner)

    response = api_as(role).post(
        f"/api/moderation/images/{image.pk}/decisions/", {"action": "approve"}, format="json"
    )

    image.refresh_from_db()
    if role == "moderator":
        assert response.status_code == 201
        body = response.json()
        assert (body["action"], body["moderator"], body["image"]) == ("approve", "moderator", image.pk)
        assert (body["state_before"], body["state_after"]) == ("pending", "approved")
        assert image.moderation_state == Image.APPROVED
    else:
        assert_error(response, MODERATORS_ONLY[role])
        assert image.moderation_state == Image.PENDING and not Decision.objects.exists()


def test_the_queue_lists_what_waits_longest_first_with_its_reports(api_as, people):
    pending = synthetic_image("Synthetic chest X-ray.", owner=people.owner)
    (reported,) = factories.images("Axial CT of the abdomen.")
    image_report(user=people.student, image=reported, reason="The caption names the wrong organ.")
    api = api_as("moderator")

    everything = api.get("/api/moderation/queue/").json()
    only_reported = api.get("/api/moderation/queue/", {"kind": "reported"}).json()
    only_pending = api.get("/api/moderation/queue/", {"kind": "pending"}).json()

    assert everything["count"] == 2 and everything["next"] is None
    assert [item["image"]["id"] for item in everything["results"]] == [pending.pk, reported.pk]
    first, second = everything["results"]
    assert (first["owner"], first["image"]["is_synthetic"], first["open_reports"]) == ("owner", True, [])
    assert second["owner"] is None
    assert [(r["reporter"], r["reason"]) for r in second["open_reports"]] == [
        ("student", "The caption names the wrong organ.")
    ]
    assert [item["image"]["id"] for item in only_reported["results"]] == [reported.pk]
    assert [item["image"]["id"] for item in only_pending["results"]] == [pending.pk]


@pytest.mark.parametrize(
    "params, status", [({"kind": "everything"}, 400), ({"page": 0}, 404), ({"page": 2}, 404)]
)
def test_bad_queue_parameters_get_a_json_error(api_as, params, status):
    error = assert_error(api_as("moderator").get("/api/moderation/queue/", params), status)
    if status == 400:
        assert "kind" in error["fields"]


def test_the_review_shows_the_open_reports_and_the_history(api_as, people):
    image = synthetic_image("Synthetic brain MRI.", owner=people.owner)
    moderation_decide(moderator=people.moderator, image=image, decision="approve")
    image_report(user=people.student, image=image, reason="Looks like a real patient.")

    body = api_as("moderator").get(f"/api/moderation/images/{image.pk}/").json()

    assert (body["image"]["id"], body["owner"], body["image"]["moderation_state"]) == (
        image.pk,
        "owner",
        "approved",
    )
    assert [report["reason"] for report in body["open_reports"]] == ["Looks like a real patient."]
    assert [(d["action"], d["state_after"]) for d in body["history"]] == [("approve", "approved")]


def test_rejecting_closes_the_reports_and_the_author_sees_the_reason(api_as, people):
    (image,) = factories.images("Axial CT of the abdomen.")
    report = image_report(user=people.student, image=image, reason="Patient name visible.")

    response = api_as("moderator").post(
        f"/api/moderation/images/{image.pk}/decisions/",
        {"action": "reject", "reason": "Identifiable."},
        format="json",
    )

    assert response.status_code == 201
    assert [r["id"] for r in response.json()["reports"]] == [report.pk]
    image.refresh_from_db()
    assert (image.moderation_state, image.moderation_reason) == (Image.REJECTED, "Identifiable.")
    assert api_as("student").get(f"/api/images/{image.pk}/").status_code == 404


@pytest.mark.parametrize(
    "state, owner, body, status, message",
    [
        ("pending", "owner", {"action": "reject", "reason": "  "}, 400, "Give a reason"),
        ("pending", "owner", {"action": "burn"}, 400, ""),
        ("pending", "owner", {"action": "reject", "reason": "x" * 2001}, 400, ""),
        ("pending", "moderator", {"action": "approve"}, 403, "another moderator"),
        ("approved", "owner", {"action": "approve"}, 409, "already approved"),
        ("rejected", "owner", {"action": "reject", "reason": "Again."}, 409, "already rejected"),
        ("pending", "owner", {"action": "dismiss"}, 409, "no open reports"),
    ],
)
def test_a_decision_the_image_does_not_allow_is_refused_with_a_json_error(
    api_as, people, state, owner, body, status, message
):
    image = synthetic_image("Synthetic CT.", owner=getattr(people, owner), state=state)

    response = api_as("moderator").post(f"/api/moderation/images/{image.pk}/decisions/", body, format="json")

    error = assert_error(response, status, message)
    if body.get("action") == "burn":
        assert "action" in error["fields"]
    image.refresh_from_db()
    assert image.moderation_state == state and not Decision.objects.exists()


def test_deciding_on_a_missing_image_is_a_404(api_as):
    response = api_as("moderator").post("/api/moderation/images/999999/decisions/", {"action": "approve"})
    assert_error(response, 404)


REPORT_APPROVED = {"owner": 403, "student": 201, "instructor": 201, "moderator": 201, "anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
def test_anyone_logged_in_reports_an_image_they_see_except_its_author(api_as, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner, state=Image.APPROVED)

    response = api_as(role).post(
        f"/api/images/{image.pk}/reports/", {"reason": "The caption is wrong."}, format="json"
    )

    if REPORT_APPROVED[role] == 201:
        assert response.status_code == 201
        body = response.json()
        assert (body["image"], body["reporter"], body["reason"]) == (image.pk, role, "The caption is wrong.")
        assert Report.objects.get().reporter == getattr(people, role)
    else:
        assert_error(response, REPORT_APPROVED[role])
        assert not Report.objects.exists()


REPORT_PENDING = {"owner": 403, "student": 404, "instructor": 404, "moderator": 201, "anonymous": 401}


@pytest.mark.parametrize("role", ROLES)
def test_nobody_else_can_report_an_image_still_pending(api_as, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner)
    response = api_as(role).post(f"/api/images/{image.pk}/reports/", {"reason": "Misleading."})
    assert response.status_code == REPORT_PENDING[role]


def test_a_report_with_a_token_and_its_refusals(people):
    (image,) = factories.images("Axial CT of the abdomen.")
    _, raw = api_token_create(user=people.student, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/images/{image.pk}/reports/"

    assert_error(api.post(url, {"reason": "   "}, format="json"), 400, "Say what is wrong")
    assert api.post(url, {"reason": "Wrong organ."}, format="json").status_code == 201
    assert_error(api.post(url, {"reason": "Still wrong."}, format="json"), 409, "already reported")
    assert_error(api.post("/api/images/999999/reports/", {"reason": "x"}, format="json"), 404)
    assert Report.objects.filter(image=image, reporter=people.student).count() == 1


def test_the_decision_log_lists_every_decision_and_filters_by_image(api_as, people):
    first = synthetic_image("Synthetic CT.", owner=people.owner)
    second = synthetic_image("Synthetic MRI.", owner=people.owner)
    moderation_decide(moderator=people.moderator, image=first, decision="reject", reason="Wrong.")
    moderation_decide(moderator=people.moderator, image=second, decision="approve")
    api = api_as("moderator")

    everything = api.get("/api/moderation/decisions/").json()
    on_first = api.get("/api/moderation/decisions/", {"image": first.pk}).json()

    assert [(d["image"], d["action"]) for d in everything["results"]] == [
        (second.pk, "approve"),
        (first.pk, "reject"),
    ]
    assert [(d["image"], d["reason"], d["moderator"]) for d in on_first["results"]] == [
        (first.pk, "Wrong.", "moderator")
    ]
    assert_error(api.get("/api/moderation/decisions/", {"image": 999999}), 404)
    assert "image" in assert_error(api.get("/api/moderation/decisions/", {"image": "x"}), 400)["fields"]


def test_a_decision_made_through_the_api_is_on_the_log_page(api_as, people, client):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    api_as("moderator").post(
        f"/api/moderation/images/{image.pk}/decisions/",
        {"action": "reject", "reason": "Anatomy is wrong."},
        format="json",
    )
    client.force_login(people.moderator)
    assert "Anatomy is wrong." in client.get(reverse("moderation:log")).content.decode()


def test_a_logged_in_browser_cannot_be_made_to_decide_without_the_csrf_token(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(people.moderator)  # a session, as a page would have

    response = browser.post(
        f"/api/moderation/images/{image.pk}/decisions/", {"action": "approve"}, format="json"
    )

    assert_error(response, 403, "CSRF")
    image.refresh_from_db()
    assert image.moderation_state == Image.PENDING
