"""Reports, decisions and the audit trail, through the services that the pages and the API call."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.corpus.models import Image
from apps.corpus.selectors import images_visible_to
from apps.generation.models import Description
from apps.generation.services import description_store
from apps.moderation.models import Decision, Report
from apps.moderation.selectors import decision_log, moderation_queue
from apps.moderation.services import ModerationError, image_report, moderation_decide
from tests import factories
from tests.moderation.conftest import synthetic_image

pytestmark = pytest.mark.django_db


def test_a_pending_image_is_seen_only_by_its_author_until_approved(people):
    image = synthetic_image("Synthetic chest radiograph.", owner=people.owner)
    assert image in images_visible_to(people.owner)
    assert image not in images_visible_to(people.student)

    moderation_decide(moderator=people.moderator, image=image, decision="approve", reason="")

    image.refresh_from_db()
    assert image.moderation_state == Image.APPROVED
    assert image in images_visible_to(people.student)
    assert image not in moderation_queue()


def test_a_rejected_image_keeps_its_reason_for_the_author_and_is_hidden_from_everyone_else(people):
    image = synthetic_image("Synthetic brain MRI.", owner=people.owner)

    moderation_decide(moderator=people.moderator, image=image, decision="reject", reason="Anatomy is wrong.")

    image.refresh_from_db()
    assert (image.moderation_state, image.moderation_reason) == (Image.REJECTED, "Anatomy is wrong.")
    assert image in images_visible_to(people.owner)
    for person in [people.student, people.instructor, None]:
        assert image not in images_visible_to(person)


def test_rejecting_needs_a_reason(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    with pytest.raises(ModerationError, match="reason"):
        moderation_decide(moderator=people.moderator, image=image, decision="reject", reason="   ")
    image.refresh_from_db()
    assert image.moderation_state == Image.PENDING
    assert not Decision.objects.exists()


@pytest.mark.parametrize("role", ["owner", "student", "instructor"])
def test_only_moderators_decide(people, role):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    with pytest.raises(PermissionDenied):
        moderation_decide(moderator=getattr(people, role), image=image, decision="approve", reason="")
    image.refresh_from_db()
    assert image.moderation_state == Image.PENDING


def test_a_superuser_may_moderate(people):
    admin = factories.user("admin", is_superuser=True, is_staff=True)
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    moderation_decide(moderator=admin, image=image, decision="approve", reason="")
    image.refresh_from_db()
    assert image.moderation_state == Image.APPROVED


def test_a_moderator_cannot_approve_their_own_image(people):
    image = synthetic_image("Synthetic CT.", owner=people.moderator)
    with pytest.raises(ModerationError, match="another moderator"):
        moderation_decide(moderator=people.moderator, image=image, decision="approve", reason="")


def test_deciding_the_same_thing_twice_is_refused_with_a_message(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    moderation_decide(moderator=people.moderator, image=image, decision="approve", reason="")
    with pytest.raises(ModerationError, match="already approved"):
        moderation_decide(moderator=people.moderator, image=image, decision="approve", reason="")
    assert Decision.objects.count() == 1


def test_every_decision_is_logged_with_who_when_what_and_why(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    moderation_decide(
        moderator=people.moderator, image=image, decision="reject", reason="Looks real; misleading."
    )
    moderation_decide(moderator=people.moderator, image=image, decision="approve", reason="Watermark added.")

    newest, oldest = decision_log(image=image)
    assert (oldest.moderator, oldest.action, oldest.reason) == (
        people.moderator,
        "reject",
        "Looks real; misleading.",
    )
    assert (oldest.state_before, oldest.state_after) == (Image.PENDING, Image.REJECTED)
    assert (newest.action, newest.state_before, newest.state_after) == (
        "approve",
        Image.REJECTED,
        Image.APPROVED,
    )
    assert newest.created_at >= oldest.created_at
    image.refresh_from_db()
    assert image.moderation_reason == ""  # approval clears the old reason


def test_the_log_outlives_the_image_and_the_moderator(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    moderation_decide(moderator=people.moderator, image=image, decision="reject", reason="Wrong.")
    label = f"{image.dataset.name} · {image.external_id}"

    image.delete()
    people.moderator.delete()

    (decision,) = decision_log()
    assert (decision.image, decision.image_label) == (None, label)
    assert (decision.moderator, decision.moderator_name) == (None, "moderator")


def test_a_report_puts_an_approved_image_in_the_queue_without_hiding_it(people):
    (image,) = factories.images("Axial CT of the abdomen.")

    report = image_report(user=people.student, image=image, reason="The caption names the wrong organ.")

    assert report.is_open
    assert image in moderation_queue()
    assert image in images_visible_to(people.instructor)


def test_removing_a_reported_image_closes_its_reports_and_hides_it(people):
    (image,) = factories.images("Axial CT of the abdomen.")
    image_report(user=people.student, image=image, reason="Patient name visible.")
    image_report(user=people.instructor, image=image, reason="Identifiable.")

    decision = moderation_decide(
        moderator=people.moderator, image=image, decision="reject", reason="Identifiable."
    )

    assert set(decision.reports.values_list("reporter__username", flat=True)) == {"student", "instructor"}
    assert not Report.objects.filter(decision__isnull=True).exists()
    assert image not in images_visible_to(people.student)
    assert image not in moderation_queue()


def described(query: str, *images: Image) -> Description:
    sources = [{"n": n, "image_id": i.pk, "caption": i.caption} for n, i in enumerate(images, start=1)]
    return description_store(
        query=query,
        k=len(sources),
        sources=sources,
        model_spec="test-llm",
        model_label="test",
        is_fallback=False,
        prompt="…",
        answer="A pneumothorax [1].",
        new_tokens=5,
        seconds=0.1,
    )


def test_rejecting_an_image_drops_the_cached_descriptions_that_quote_its_caption(people):
    rejected, other = factories.images("Chest X-ray of John Doe: pneumothorax.", "Chest X-ray, effusion.")
    described("pneumothorax", rejected, other)
    described("chest", other, rejected)
    unrelated = described("effusion", other)
    image_report(user=people.student, image=rejected, reason="A patient's name is in the caption.")

    moderation_decide(moderator=people.moderator, image=rejected, decision="dismiss")
    assert Description.objects.count() == 3  # dismissing the reports changes nothing
    moderation_decide(moderator=people.moderator, image=rejected, decision="reject", reason="Identifiable.")

    assert list(Description.objects.values_list("pk", flat=True)) == [unrelated.pk]


def test_dismissing_reports_keeps_the_image_and_empties_the_queue(people):
    (image,) = factories.images("Axial CT of the abdomen.")
    image_report(user=people.student, image=image, reason="I do not like it.")

    decision = moderation_decide(moderator=people.moderator, image=image, decision="dismiss", reason="Fine.")

    assert (decision.state_before, decision.state_after) == (Image.APPROVED, Image.APPROVED)
    assert image in images_visible_to(people.student)
    assert image not in moderation_queue()


def test_dismissing_needs_open_reports(people):
    (image,) = factories.images("Axial CT of the abdomen.")
    with pytest.raises(ModerationError, match="no open reports"):
        moderation_decide(moderator=people.moderator, image=image, decision="dismiss", reason="")


def test_a_user_reports_an_image_once_until_a_moderator_answers(people):
    (image,) = factories.images("Axial CT of the abdomen.")
    image_report(user=people.student, image=image, reason="Wrong caption.")
    with pytest.raises(ModerationError, match="already reported"):
        image_report(user=people.student, image=image, reason="Still wrong.")

    moderation_decide(moderator=people.moderator, image=image, decision="dismiss", reason="Caption is right.")
    image_report(user=people.student, image=image, reason="Really, it is wrong.")  # a new report is allowed

    assert Report.objects.filter(reporter=people.student).count() == 2


def test_reports_need_a_reason_and_not_ones_own_image(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)
    (other,) = factories.images("Axial CT of the abdomen.")
    with pytest.raises(ModerationError, match="own image"):
        image_report(user=people.owner, image=image, reason="Oops.")
    with pytest.raises(ModerationError, match="Say what is wrong"):
        image_report(user=people.student, image=other, reason=" \n ")
    with pytest.raises(ModerationError, match="under 2000"):
        image_report(user=people.student, image=other, reason="x" * 2001)
    assert not Report.objects.exists()


def test_nobody_reports_an_image_they_cannot_see(people):
    image = synthetic_image("Synthetic CT.", owner=people.owner)  # pending: only its author sees it
    with pytest.raises(PermissionDenied):
        image_report(user=people.student, image=image, reason="Bad.")


def test_the_queue_holds_pending_and_reported_images_longest_waiting_first(people):
    first = synthetic_image("Synthetic CT one.", owner=people.owner)
    (reported,) = factories.images("Axial CT of the abdomen.")
    (untouched,) = factories.images("Ultrasound of the gallbladder.")
    second = synthetic_image("Synthetic CT two.", owner=people.owner)
    image_report(user=people.student, image=reported, reason="Wrong caption.")

    assert list(moderation_queue()) == [first, second, reported]
    assert list(moderation_queue(kind="pending")) == [first, second]
    (item,) = moderation_queue(kind="reported")
    assert item == reported and [r.reason for r in item.open_reports] == ["Wrong caption."]
    assert untouched not in moderation_queue()
