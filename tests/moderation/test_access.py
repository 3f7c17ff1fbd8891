"""Every moderation page and action as the image's owner, another student, an instructor, a moderator
and an anonymous visitor."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.corpus.models import Image
from apps.moderation.models import Decision, Report
from tests.moderation.conftest import ROLES, synthetic_image

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
MODERATORS_ONLY = {"owner": 403, "student": 403, "instructor": 403, "moderator": 200, "anonymous": "login"}


def outcome(response):
    if response.status_code == 302 and response["Location"].startswith(LOGIN + "?next="):
        return "login"
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["moderation:queue", "moderation:log", "moderation:review"])
def test_moderation_pages_are_for_moderators_only(visit, people, role, page):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner)
    client, _ = visit(role)
    url = reverse(page, args=[image.pk]) if page == "moderation:review" else reverse(page)
    assert outcome(client.get(url)) == MODERATORS_ONLY[role]


@pytest.mark.parametrize("role", ROLES)
def test_only_a_moderator_can_approve(visit, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner)
    client, _ = visit(role)

    response = client.post(
        reverse("moderation:review", args=[image.pk]), {"decision": "approve", "reason": ""}
    )

    image.refresh_from_db()
    if role == "moderator":
        assert response.status_code == 302 and image.moderation_state == Image.APPROVED
    else:
        assert outcome(response) == MODERATORS_ONLY[role]
        assert image.moderation_state == Image.PENDING and not Decision.objects.exists()


REPORT_APPROVED = {"owner": 403, "student": 302, "instructor": 302, "moderator": 302, "anonymous": "login"}


@pytest.mark.parametrize("role", ROLES)
def test_anyone_logged_in_reports_an_image_they_see_except_its_author(visit, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner, state=Image.APPROVED)
    client, person = visit(role)
    url = reverse("moderation:report", args=[image.pk])

    assert outcome(client.get(url)) == (200 if person else "login")
    response = client.post(url, {"reason": "The caption is wrong."})

    assert outcome(response) == REPORT_APPROVED[role]
    assert Report.objects.filter(image=image).count() == (1 if response.status_code == 302 and person else 0)


REPORT_PENDING = {"owner": 200, "student": 404, "instructor": 404, "moderator": 200, "anonymous": "login"}


@pytest.mark.parametrize("role", ROLES)
def test_nobody_else_reaches_the_report_page_of_an_image_still_pending(visit, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner)
    client, _ = visit(role)
    assert outcome(client.get(reverse("moderation:report", args=[image.pk]))) == REPORT_PENDING[role]


IMAGE_PAGE = {
    # role: (status for a pending image, status for a rejected one)
    "owner": (200, 200),
    "student": (404, 404),
    "instructor": (404, 404),
    "moderator": (200, 200),
    "anonymous": (404, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_a_pending_or_rejected_image_is_seen_only_by_its_author_and_moderators(visit, people, role):
    pending = synthetic_image("Synthetic chest X-ray.", owner=people.owner)
    rejected = synthetic_image(
        "Synthetic knee MRI.", owner=people.owner, state=Image.REJECTED, reason="Wrong."
    )
    client, _ = visit(role)
    statuses = tuple(
        client.get(reverse("corpus:image_detail", args=[image.pk])).status_code
        for image in (pending, rejected)
    )
    assert statuses == IMAGE_PAGE[role]


REPORT_FORM = "<summary>Report this image</summary>"
LOG_IN_TO_REPORT = "Log in to report this image"
DECIDE = 'name="decision" value="reject"'
PANEL = {
    # role: (what the moderation panel on an approved image offers, what it must not offer)
    "owner": ([], [REPORT_FORM, LOG_IN_TO_REPORT, DECIDE]),
    "student": ([REPORT_FORM], [LOG_IN_TO_REPORT, DECIDE]),
    "instructor": ([REPORT_FORM], [LOG_IN_TO_REPORT, DECIDE]),
    "moderator": ([DECIDE], [REPORT_FORM, LOG_IN_TO_REPORT]),
    "anonymous": ([LOG_IN_TO_REPORT], [REPORT_FORM, DECIDE]),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_image_page_offers_each_visitor_the_right_moderation_action(visit, people, role):
    image = synthetic_image("Synthetic chest X-ray.", owner=people.owner, state=Image.APPROVED)
    client, _ = visit(role)
    page = client.get(reverse("corpus:image_detail", args=[image.pk])).content.decode()
    shown, hidden = PANEL[role]
    assert all(text in page for text in shown)
    assert not any(text in page for text in hidden)
    if role in ("student", "instructor", "moderator"):  # its form posts with the CSRF token
        assert 'name="csrfmiddlewaretoken"' in page.split('class="moderation-panel"')[1]
