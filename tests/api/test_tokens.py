"""Personal API tokens: created and revoked on a page or through the API, used as Bearer tokens."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.models import ApiToken
from apps.core.tokens import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_user_creates_a_token_on_the_page_and_uses_it(client):
    user = factories.user()
    client.force_login(user)

    page = client.post("/accounts/tokens/", {"name": "study script"}).content.decode()

    raw = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert raw.startswith("mrg_")
    token = ApiToken.objects.get(user=user)
    assert token.key_hash != raw and raw not in token.key_hash  # only a hash is stored
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [t["name"] for t in api.get("/api/tokens/").json()["results"]] == ["study script"]
    assert raw not in client.get("/accounts/tokens/").content.decode()  # shown once only


def test_a_revoked_token_no_longer_works():
    user = factories.user()
    api = APIClient()
    api.force_authenticate(user)
    created = api.post("/api/tokens/", {"name": "ci"}, format="json").json()
    api.force_authenticate(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert api.get("/api/tokens/").status_code == 200

    assert api.delete(f"/api/tokens/{created['details']['id']}/").status_code == 204

    response = api.get("/api/tokens/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_tokens_are_private_to_their_owner():
    owner, other = factories.user(), factories.user()
    api = APIClient()
    api.force_authenticate(owner)
    token_id = api.post("/api/tokens/", {"name": "mine"}, format="json").json()["details"]["id"]

    api.force_authenticate(other)
    assert api.get("/api/tokens/").json()["results"] == []
    assert api.delete(f"/api/tokens/{token_id}/").status_code == 404
    assert ApiToken.objects.get(pk=token_id).is_active


def test_anonymous_visitors_cannot_manage_tokens(client):
    assert APIClient().get("/api/tokens/").status_code == 401
    assert client.get("/accounts/tokens/").status_code == 302  # to the log-in page


@pytest.mark.parametrize("header", ["Bearer mrg_not-a-real-token", "Bearer", "Bearer a b"])
def test_a_bad_token_is_a_401_with_a_json_error(header):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/tokens/")
    assert response.status_code == 401 and response.json()["error"]["message"]


def test_a_token_needs_a_name():
    api = APIClient()
    api.force_authenticate(factories.user())
    response = api.post("/api/tokens/", {"name": "   "}, format="json")
    assert response.status_code == 400 and response.json()["error"]["message"]


def test_a_token_cannot_create_more_tokens():
    user = factories.user()
    _, raw = api_token_create(user=user, name="leaked")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api.post("/api/tokens/", {"name": "copy"}, format="json")

    assert response.status_code == 403 and "logged in" in response.json()["error"]["message"]
    assert ApiToken.objects.filter(user=user).count() == 1
