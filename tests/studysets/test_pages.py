"""Study-set pages through Django's test client: saving in one click, lists, the export."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.studysets.models import StudySet, StudySetItem
from tests import factories
from tests.studysets.helpers import generated_by, reject, studyset

pytestmark = pytest.mark.django_db


def test_search_results_offer_save_to_a_study_set_and_anonymous_visitors_a_log_in_link(client):
    (image,) = factories.images("Chest radiograph showing a right pneumothorax.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    search = reverse("search:search") + "?q=pneumothorax"

    anonymous = client.get(search).content.decode()
    assert "Log in to save" in anonymous
    assert reverse("accounts:login") + "?next=/%3Fq%3Dpneumothorax" in anonymous

    owner = factories.user()
    studyset(owner, title="Thorax")
    client.force_login(owner)
    page = client.get(search).content.decode()
    assert "Save to study set" in page and ">Thorax</option>" in page
    assert f'name="image" value="{image.pk}"' in page


def test_one_click_save_starts_my_first_study_set_and_returns_to_the_page(client):
    (image,) = factories.images("Axial CT of the brain.")
    user = factories.user()
    client.force_login(user)
    image_page = reverse("corpus:image_detail", args=[image.pk])
    form = client.get(image_page).content.decode()
    assert "starts “My first study set”" not in form
    assert 'name="new_title" type="text" maxlength="200" size="18" value="My first study set"' in form

    response = client.post(
        reverse("studysets:save_image"),
        {"image": image.pk, "new_title": "My first study set", "note": "subdural?", "next": image_page},
    )

    assert response.status_code == 302 and response.url == image_page
    item = StudySetItem.objects.get()
    assert (item.studyset.title, item.studyset.owner, item.note) == ("My first study set", user, "subdural?")
    page = client.get(image_page).content.decode()
    assert "Saved to “My first study set”" in page and "Saved in My first study set" in page


def test_saving_into_a_chosen_set_and_an_outside_next_goes_to_the_set_instead(client):
    (image,) = factories.images("Axial CT of the brain.")
    user = factories.user()
    studyset(user, title="Other")
    chosen = studyset(user, title="Neuro")
    client.force_login(user)

    response = client.post(
        reverse("studysets:save_image"),
        {"image": image.pk, "studyset": chosen.pk, "next": "https://evil.example/"},
    )

    assert response.url == reverse("studysets:detail", args=[chosen.pk])
    assert list(chosen.items.values_list("image_id", flat=True)) == [image.pk]


def test_saving_without_choosing_among_several_sets_asks_which_one(client):
    (image,) = factories.images("Axial CT of the brain.")
    user = factories.user()
    studyset(user, title="One")
    client.force_login(user)

    response = client.post(reverse("studysets:save_image"), {"image": image.pk})

    assert response.status_code == 400
    assert "Choose which of your study sets" in response.content.decode()
    assert StudySetItem.objects.count() == 0


def test_an_htmx_save_answers_with_the_control_alone_saying_where_it_went(client):
    (image,) = factories.images("Axial CT of the brain.")
    user = factories.user()
    studyset(user, title="Neuro")
    client.force_login(user)
    page = "/?q=brain"

    response = client.post(
        reverse("studysets:save_image"),
        {"image": image.pk, "new_title": "Exam week", "uid": "ss7", "next": page},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<form")
    assert "<html" not in body and "htmx.min.js" not in body  # the page already has htmx
    assert 'role="status">Saved to “Exam week”.' in body and "Saved in Exam week" in body
    assert 'id="ss7-set"' in body and ">Exam week</option>" in body
    assert f'name="next" value="{page}"' in body
    exam = StudySet.objects.get(owner=user, title="Exam week")
    assert list(exam.items.values_list("image_id", flat=True)) == [image.pk]


def test_an_htmx_save_that_cannot_be_done_says_why_inside_the_control(client):
    (image,) = factories.images("Axial CT of the brain.")
    user = factories.user()
    studyset(user, title="One")
    client.force_login(user)

    response = client.post(
        reverse("studysets:save_image"), {"image": image.pk, "uid": "ss2"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert 'role="alert">Choose which of your study sets' in body and 'id="ss2-set"' in body
    assert StudySetItem.objects.count() == 0


def test_the_first_control_on_a_page_brings_htmx_and_the_others_do_not(client, settings):
    settings.MIRAGE_SIMILARITY_FLOOR_CAPTION = -1.0  # both images are results
    factories.images("Axial CT of the brain.", "Chest radiograph.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    client.force_login(factories.user())

    page = client.get(reverse("search:search") + "?q=brain").content.decode()

    assert page.count("vendor/htmx/htmx.min.js") == 1
    assert page.count('hx-post="/studysets/save/"') == 2


def test_a_rejected_image_cannot_be_saved_even_by_a_crafted_post(client):
    (image,) = factories.images("Rejected picture.")
    reject(image)
    user = factories.user()
    client.force_login(user)

    response = client.post(reverse("studysets:save_image"), {"image": image.pk})

    assert response.status_code == 404 and StudySetItem.objects.count() == 0


def test_a_set_is_created_renamed_and_shown_with_a_bad_title_refused(client):
    user = factories.user()
    client.force_login(user)

    refused = client.post(reverse("studysets:create"), {"title": "", "visibility": "private"})
    assert (
        refused.status_code == 400 and "Please correct the fields marked below." in refused.content.decode()
    )

    created = client.post(
        reverse("studysets:create"),
        {"title": "Fractures", "description": "Long bones", "visibility": "private"},
    )
    studyset_ = StudySet.objects.get()
    assert created.url == reverse("studysets:detail", args=[studyset_.pk])

    client.post(
        reverse("studysets:edit", args=[studyset_.pk]), {"title": "Tibia fractures", "visibility": "unlisted"}
    )
    studyset_.refresh_from_db()
    assert (studyset_.title, studyset_.visibility) == ("Tibia fractures", "unlisted")
    page = client.get(reverse("studysets:detail", args=[studyset_.pk])).content.decode()
    assert reverse("studysets:shared", args=[studyset_.pk, studyset_.share_token]) in page
    assert "Tibia fractures" in client.get(reverse("studysets:mine")).content.decode()


def test_renewing_the_link_closes_the_old_one(client):
    owner = factories.user()
    shared = studyset(owner, visibility=StudySet.UNLISTED)
    old = reverse("studysets:shared", args=[shared.pk, shared.share_token])
    client.force_login(owner)
    client.post(reverse("studysets:renew_link", args=[shared.pk]))
    client.logout()
    assert client.get(old).status_code == 404


def test_public_sets_are_listed_and_searched_by_title(client):
    owner = factories.user()
    studyset(owner, title="Pneumothorax cases", visibility=StudySet.PUBLIC)
    studyset(owner, title="Fractures", visibility=StudySet.PUBLIC)
    studyset(owner, title="Private pneumothorax notes")
    studyset(owner, title="Unlisted pneumothorax", visibility=StudySet.UNLISTED)

    everything = client.get(reverse("studysets:public")).content.decode()
    found = client.get(reverse("studysets:public"), {"q": "PNEUMO"}).content.decode()

    assert "Pneumothorax cases" in everything and "Fractures" in everything
    assert "Private" not in everything and "Unlisted" not in everything
    assert "Pneumothorax cases" in found and "Fractures" not in found
    assert (
        "No public study set has" in client.get(reverse("studysets:public"), {"q": "zebra"}).content.decode()
    )


def test_owner_reorders_annotates_and_removes_items_with_plain_forms(client):
    owner = factories.user()
    first, second = factories.images("A first.", "B second.")
    saved = studyset(owner, [first, second])
    item_a, item_b = saved.items.order_by("position")
    client.force_login(owner)

    client.post(reverse("studysets:item_move", args=[saved.pk, item_b.pk]), {"direction": "up"})
    client.post(reverse("studysets:item_note", args=[saved.pk, item_a.pk]), {"note": "compare with B"})
    bad_move = client.post(
        reverse("studysets:item_move", args=[saved.pk, item_a.pk]), {"direction": "sideways"}
    )
    client.post(reverse("studysets:item_remove", args=[saved.pk, item_b.pk]))

    assert bad_move.status_code == 400
    assert list(saved.items.values_list("image__caption", "note")) == [("A first.", "compare with B")]


def test_a_long_set_shows_a_hundred_images_a_page_and_reordering_across_pages_returns_to_the_item(client):
    from apps.studysets.selectors import ITEMS_PER_PAGE

    owner = factories.user()
    images = factories.images(*(f"Image number {n}." for n in range(1, ITEMS_PER_PAGE + 4)))
    saved = studyset(owner, images)
    items = list(saved.items.order_by("position"))
    client.force_login(owner)
    detail = reverse("studysets:detail", args=[saved.pk])

    first = client.get(detail).content.decode()
    second = client.get(detail, {"page": 2}).content.decode()

    assert first.count('<li id="item-') == ITEMS_PER_PAGE and second.count('<li id="item-') == 3
    assert f"Images 1–{ITEMS_PER_PAGE} of {ITEMS_PER_PAGE + 3}." in first
    assert f'start="{ITEMS_PER_PAGE + 1}"' in second
    # The last image of page 1 can move down and the first of page 2 up, across the page boundary.
    assert f"Move image {ITEMS_PER_PAGE} down" in first and f"Move image {ITEMS_PER_PAGE + 1} up" in second
    assert "Move image 1 up" not in first and f"Move image {ITEMS_PER_PAGE + 3} down" not in second

    moved = client.post(
        reverse("studysets:item_move", args=[saved.pk, items[ITEMS_PER_PAGE].pk]), {"direction": "up"}
    )
    back = client.post(
        reverse("studysets:item_move", args=[saved.pk, items[ITEMS_PER_PAGE - 2].pk]), {"direction": "down"}
    )
    removed = client.post(reverse("studysets:item_remove", args=[saved.pk, items[-1].pk]))

    assert moved.url == f"{detail}#item-{items[ITEMS_PER_PAGE].pk}"  # image 101 became 100: page 1
    assert back.url == f"{detail}#item-{items[ITEMS_PER_PAGE - 2].pk}"  # image 100 now, still page 1
    assert removed.url == f"{detail}?page=2"
    order = list(saved.items.order_by("position").values_list("pk", flat=True))
    n = ITEMS_PER_PAGE
    assert order[n - 2 : n] == [items[n].pk, items[n - 2].pk]
    assert len(order) == ITEMS_PER_PAGE + 2


def test_the_export_holds_each_image_and_a_csv_with_caption_source_licence_and_note(client):
    owner = factories.user()
    kept, rejected = factories.images(
        "Chest radiograph showing a right pneumothorax.",
        "Rejected picture.",
        pmc_id="PMC3970251",
        article_url="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3970251/",
        attribution="Smith et al., 2014",
    )
    saved = studyset(owner, [kept, rejected], title="Thorax cases", visibility=StudySet.PUBLIC)
    saved.items.filter(image=kept).update(note="pleural line")
    StudySet.objects.filter(pk=saved.pk).update(share_notes=True)
    reject(rejected)

    response = client.get(reverse("studysets:export", args=[saved.pk]))

    assert response["Content-Type"] == "application/zip"
    assert f"thorax-cases-{saved.pk}.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(csv.DictReader(io.StringIO(archive.read("images.csv").decode("utf-8-sig"))))
    assert len(rows) == 1  # the rejected image stays out
    row = rows[0]
    assert row["caption"] == "Chest radiograph showing a right pneumothorax."
    assert (
        row["note"] == "pleural line" and row["licence"] == "CC BY" and row["licence_as_published"] == "CC BY"
    )
    assert row["article_url"].endswith("/PMC3970251/") and row["pmc_id"] == "PMC3970251"
    assert row["attribution"] == "Smith et al., 2014" and row["dataset"] == kept.dataset.name
    assert row["mirage_url"] == f"http://testserver/images/{kept.pk}/"
    with kept.file.open("rb") as stored:
        assert archive.read(row["file"]) == stored.read()
    assert "Thorax cases" in archive.read("README.txt").decode()


def test_the_owner_is_told_when_items_are_hidden_by_moderation(client):
    owner = factories.user()
    kept, rejected = factories.images("Chest X-ray.", "Rejected picture.")
    saved = studyset(owner, [kept, rejected])
    reject(rejected)
    client.force_login(owner)

    page = client.get(reverse("studysets:detail", args=[saved.pk])).content.decode()

    assert "1 image in this set is hidden" in page and "Rejected picture." not in page


def test_nav_links_lead_to_ones_own_sets_or_the_public_ones(client):
    assert reverse("studysets:public") in client.get(reverse("search:search")).content.decode()
    client.force_login(factories.user())
    assert reverse("studysets:mine") in client.get(reverse("search:search")).content.decode()


def test_a_moderator_reviewing_a_pending_image_is_not_offered_to_save_it(client):
    (image,) = factories.images("Synthetic chest X-ray awaiting review.")
    generated_by(factories.user(), image)
    client.force_login(factories.user(role="moderator"))

    page = client.get(reverse("corpus:image_detail", args=[image.pk]))

    assert page.status_code == 200 and "Save to study set" not in page.content.decode()


def test_copying_is_the_main_action_for_a_reader_and_a_secondary_one_for_the_owner(client):
    owner = factories.user()
    public = studyset(owner, title="Pneumothorax cases", visibility=StudySet.PUBLIC)
    url = reverse("studysets:detail", args=[public.pk])

    client.force_login(owner)
    own = client.get(url).content.decode()
    client.force_login(factories.user())
    other = client.get(url).content.decode()

    assert '<button type="submit" class="secondary">Duplicate this set</button>' in own
    assert '<button type="submit">Copy into my study sets</button>' in other
