"""The README's Python example (docs/api_example.py), run as a user would: against a live server,
with a token, through the standard library's HTTP client."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.core.tokens import api_token_create
from apps.studysets.models import StudySet
from tests import factories

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "api_example.py"


@pytest.mark.django_db(transaction=True)  # the live server reads what the test wrote
def test_the_readme_example_searches_and_saves_the_first_result_with_its_note(
    live_server, monkeypatch, capsys
):
    factories.images(
        "Chest X-ray showing a right pneumothorax.",
        "Axial CT of the head with a subdural haematoma.",
        "Ultrasound of the gallbladder with gallstones.",
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    user = factories.user()
    _, raw = api_token_create(user=user, name="README example")
    monkeypatch.setenv("MIRAGE_URL", live_server.url)
    monkeypatch.setenv("MIRAGE_TOKEN", raw)

    runpy.run_path(str(EXAMPLE), run_name="__main__")

    studyset = StudySet.objects.get(owner=user)
    item = studyset.items.select_related("image").get()
    assert studyset.title == "Chest X-rays"
    assert item.image.caption == "Chest X-ray showing a right pneumothorax."
    assert item.note == "Top hit for 'chest x-ray'; check the licence before reuse."
    printed = capsys.readouterr().out
    assert f"Created study set #{studyset.pk}" in printed
    assert f"Saved image #{item.image_id} at place 1" in printed
