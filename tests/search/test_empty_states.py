"""Empty states that suggest the next step: a search that finds nothing offers queries to try; on a
fresh install staff (and only staff) are told how to load the real corpus; no study sets yet says how
to save one."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.search.views import EXAMPLE_QUERIES
from tests import factories

pytestmark = pytest.mark.django_db


def empty_state(page: str) -> str:
    found = re.search(r'<div class="empty"[^>]*>(.*?)</div>', page, re.S)
    assert found, "no empty state on the page"
    return found.group(1)


def test_a_search_that_finds_nothing_offers_example_queries_as_links(client):
    factories.images("Chest radiograph showing a right pneumothorax.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    page = client.get(reverse("search:search"), {"q": "qwxz vbnq"}).content.decode()

    box = empty_state(page)
    assert "No good match for <q>qwxz vbnq</q>" in box and "Try one of these" in box
    links = re.findall(r'<a href="/\?q=([^"]+)">([^<]+)</a>', box)
    assert [text for _, text in links] == EXAMPLE_QUERIES
    assert ("chest%20X-ray%20with%20pneumothorax", "chest X-ray with pneumothorax") in links


def test_staff_are_told_how_to_load_the_real_corpus_while_only_samples_are_loaded(client):
    factories.images("Sample chest radiograph.", slug="samples")
    hint = "manage.py import_hf mdwiratathya/ROCO-radiology --split validation"

    client.force_login(factories.user("root", is_staff=True))
    page = client.get(reverse("search:search")).content.decode()
    assert "Only the sample corpus is loaded" in page and hint in page and "Real corpus" in page

    client.force_login(factories.user("student"))
    assert "manage.py" not in client.get(reverse("search:search")).content.decode()
    client.logout()
    assert "manage.py" not in client.get(reverse("search:search")).content.decode()

    factories.images("A ROCO figure.", slug="roco")
    client.force_login(factories.user("admin2", is_staff=True))
    assert hint not in client.get(reverse("search:search")).content.decode()


def test_on_an_empty_install_staff_are_told_to_load_the_samples_and_students_to_wait(client):
    client.force_login(factories.user("root", is_staff=True))
    page = client.get(reverse("search:search")).content.decode()
    assert "No images have been loaded yet." in page and "manage.py load_samples" in page

    client.force_login(factories.user("student"))
    page = client.get(reverse("search:search")).content.decode()
    assert "the server's administrator loads them" in page and "manage.py" not in page


def test_no_study_sets_yet_says_to_search_then_save(client):
    client.force_login(factories.user("ana"))

    box = empty_state(client.get(reverse("studysets:mine")).content.decode())

    assert "You have no study sets yet" in box and "“Save to study set”" in box
    assert f'href="{reverse("search:search")}"' in box and "?q=chest%20X-ray%20with%20pneumothorax" in box
