"""The moderation pages and the moderation part of the image page, through Django's test client."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.corpus.models import Image
from apps.moderation.models import Report
from apps.moderation.services import image_report, moderation_decide
from tests import factories
from tests.factories import api_as, assert_error
from tests.moderation.conftest import synthetic_image

pytestmark = pytest.mark.django_db


def test_the_queue_shows_what_waits_and_why(visit, people):
    pending = synthetic_image("Synthetic chest radiograph of a pneumothorax.", owner=people.owner)
    (reported,) = factories.images("Axial CT of the abdomen.")
    image_report(user=people.student, image=reported, reason="The patient's name is visible.")
    client, _ = visit("moderator")

    page = client.get(reverse("moderation:queue")).content.decode()

    assert "2 images waiting" in page
    assert "Synthetic chest radiograph of a pneumothorax." in page and "SYNTHETIC" in page
    assert "made by owner" in page
    assert "The patient&#x27;s name is visible." in page and "student" in page
    assert page.index(pending.external_id) < page.index(reported.external_id)  # longest-waiting first
    assert "Dismiss report" in page and "Reject (takes it out of everyone's view)" in page
    assert "Approve" in page and "Remove" not in page


def test_a_moderator_approves_from_the_queue_and_returns_to_it(visit, people):
    image = synthetic_image("Synthetic chest radiograph.", owner=people.owner)
    client, _ = visit("moderator")
    queue = reverse("moderation:queue") + "?kind=pending"

    response = client.post(
        reverse("moderation:review", args=[image.pk]), {"decision": "approve", "reason": "", "next": queue}
    )

    assert response["Location"] == queue
    page = client.get(response["Location"]).content.decode()
    assert f"{image.external_id}: approved." in page and "Nothing is waiting" in page


def test_a_decision_never_redirects_off_site(visit, people):
    image = synthetic_image("Synthetic chest radiograph.", owner=people.owner)
    client, _ = visit("moderator")
    response = client.post(
        reverse("moderation:review", args=[image.pk]),
        {"decision": "approve", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("moderation:queue")


@pytest.mark.parametrize(
    ("data", "message", "status"),
    [
        ({"decision": "reject", "reason": ""}, "Give a reason for rejecting", 400),
        ({"decision": "dismiss", "reason": ""}, "no open reports", 409),
        ({"decision": "delete", "reason": ""}, "Select a valid choice", 400),
        ({"decision": "reject", "reason": "x" * 2001}, "at most 2000 characters", 400),
    ],
)
def test_a_decision_that_cannot_be_made_gets_a_message_with_the_services_status(
    visit, people, data, message, status
):
    image = synthetic_image("Synthetic chest radiograph.", owner=people.owner)
    client, _ = visit("moderator")
    response = client.post(reverse("moderation:review", args=[image.pk]), data)
    assert response.status_code == status
    assert message in response.content.decode() and 'role="alert"' in response.content.decode()
    image.refresh_from_db()
    assert image.moderation_state == Image.PENDING


def test_the_author_sees_pending_then_rejected_with_the_reason(visit, people):
    image = synthetic_image("Synthetic chest radiograph.", owner=people.owner)
    client, _ = visit("owner")
    url = reverse("corpus:image_detail", args=[image.pk])
    assert "Waiting for a moderator" in client.get(url).content.decode()

    moderation_decide(moderator=people.moderator, image=image, decision="reject", reason="Ribs are missing.")

    page = client.get(url).content.decode()
    assert "<strong>Rejected</strong> by a moderator; only you can see this image." in page
    assert "Reason: Ribs are missing." in page
    profile = client.get(reverse("accounts:profile")).content.decode()
    assert "Ribs are missing." in profile


def test_a_student_reports_from_the_image_page_and_is_told_it_was_received(visit, people):
    (image,) = factories.images("Axial CT of the abdomen.")
    client, _ = visit("student")

    response = client.post(reverse("moderation:report", args=[image.pk]), {"reason": "Wrong organ named."})

    assert response["Location"] == reverse("corpus:image_detail", args=[image.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Thank you. A moderator will review this image." in page
    assert "You reported this image; a moderator will review it." in page
    assert Report.objects.get().reason == "Wrong organ named."


def test_a_report_without_a_reason_gets_a_message_and_a_400(visit, people):
    (image,) = factories.images("Axial CT of the abdomen.")
    client, _ = visit("student")
    response = client.post(reverse("moderation:report", args=[image.pk]), {"reason": "  "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not Report.objects.exists()


def test_reporting_twice_gets_a_message_and_a_409_as_in_the_api(visit, people):
    (image,) = factories.images("Axial CT of the abdomen.")
    image_report(user=people.student, image=image, reason="Wrong organ named.")
    client, _ = visit("student")
    response = client.post(reverse("moderation:report", args=[image.pk]), {"reason": "Again."})
    assert response.status_code == 409
    assert "You reported this image" in response.content.decode()
    assert Report.objects.count() == 1


def test_an_author_reporting_their_own_image_gets_a_403_on_the_page_as_in_the_api(visit, people):
    image = synthetic_image("Synthetic chest radiograph.", owner=people.owner, state=Image.APPROVED)
    client, _ = visit("owner")
    page = client.post(reverse("moderation:report", args=[image.pk]), {"reason": "Mine, but wrong."})
    api = api_as(people.owner).post(f"/api/images/{image.pk}/reports/", {"reason": "Mine, but wrong."})
    assert page.status_code == 403 and "your own image" in page.content.decode()
    assert (
        assert_error(api, 403, "permission_denied")["message"]
        == "This is your own image; you cannot report it."
    )
    assert not Report.objects.exists()


def test_the_decision_log_shows_who_when_what_why_and_the_reports_closed(visit, people):
    (image,) = factories.images("Axial CT of the abdomen.")
    (other,) = factories.images("Ultrasound of the gallbladder.")
    image_report(user=people.student, image=image, reason="Patient name visible.")
    moderation_decide(
        moderator=people.moderator, image=image, decision="reject", reason="Identifiable patient."
    )
    image_report(user=people.student, image=other, reason="Blurry.")
    moderation_decide(moderator=people.moderator, image=other, decision="dismiss", reason="Good enough.")
    client, _ = visit("moderator")

    page = client.get(reverse("moderation:log")).content.decode()
    for text in [
        "moderator",
        "rejected",
        "Identifiable patient.",
        "student: Patient name visible.",
        "approved → rejected",
        "dismissed the reports",
        "Good enough.",
    ]:
        assert text in page
    assert page.index("Good enough.") < page.index("Identifiable patient.")  # newest first

    only = client.get(reverse("moderation:log"), {"image": image.pk}).content.decode()
    assert "Identifiable patient." in only and "Good enough." not in only


def test_moderators_see_the_queue_size_in_the_navigation(visit, people):
    synthetic_image("Synthetic chest radiograph.", owner=people.owner)
    client, _ = visit("moderator")
    assert "Moderation (1 waiting)" in client.get(reverse("accounts:profile")).content.decode()


def test_students_have_no_moderation_link(visit, people):
    client, _ = visit("student")
    assert reverse("moderation:queue") not in client.get(reverse("accounts:profile")).content.decode()


def search(client, query: str) -> str:
    return client.get(reverse("search:search"), {"q": query}).content.decode()


def test_a_rejected_image_disappears_from_other_users_searches_but_not_its_authors(visit, people):
    image = synthetic_image(
        "Synthetic radiograph of a scaphoid fracture.", owner=people.owner, state=Image.APPROVED
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    client, _ = visit("student")
    assert image.caption in search(client, "scaphoid fracture")

    moderation_decide(moderator=people.moderator, image=image, decision="reject", reason="Misleading.")

    assert image.caption not in search(client, "scaphoid fracture")
    client.logout()
    assert image.caption not in search(client, "scaphoid fracture")
    owner_client, _ = visit("owner")
    assert image.caption in search(owner_client, "scaphoid fracture")


def test_the_log_filter_ignores_a_digit_that_is_not_a_number(visit):
    client, _ = visit("moderator")
    assert client.get("/moderation/log/", {"image": "²"}).status_code == 200
