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
    assert 89 <= (token.expires_at - token.created_at).days <= 90  # the default lifetime
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/me/").json()["username"] == user.username
    listing = client.get("/accounts/tokens/").content.decode()
    assert raw not in listing and "study script" in listing  # shown once only


def test_a_revoked_token_no_longer_works():
    user = factories.user()
    api = APIClient()
    api.force_authenticate(user)
    created = api.post("/api/tokens/", {"name": "ci"}, format="json").json()
    assert api.delete(f"/api/tokens/{created['details']['id']}/").status_code == 204
    api.force_authenticate(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")

    response = api.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def _bearer(raw):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_a_token_cannot_list_create_or_revoke_tokens():
    user = factories.user()
    token, raw = api_token_create(user=user, name="leaked")
    api = _bearer(raw)
    assert api.get("/api/tokens/").status_code == 403
    assert api.post("/api/tokens/", {"name": "copy"}, format="json").status_code == 403
    assert api.delete(f"/api/tokens/{token.pk}/").status_code == 403
    assert ApiToken.objects.filter(user=user).count() == 1 and ApiToken.objects.get().is_active


def test_an_expired_token_no_longer_works():
    user = factories.user()
    token, raw = api_token_create(user=user, name="short", lifetime="30")
    assert _bearer(raw).get("/api/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at)
    assert _bearer(raw).get("/api/me/").status_code == 401


def test_a_read_only_token_reads_but_cannot_write():
    user = factories.user()
    _, raw = api_token_create(user=user, name="reader", read_only=True)
    api = _bearer(raw)
    assert api.get("/api/studysets/").status_code == 200
    refused = api.post("/api/studysets/", {"title": "Mine"}, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]
    assert not user.studysets.exists()


def test_a_deactivated_users_token_no_longer_authenticates():
    user = factories.user()
    _, raw = api_token_create(user=user, name="script")
    user.is_active = False
    user.save()
    assert _bearer(raw).get("/api/me/").status_code == 401


def test_changing_the_password_revokes_every_token(client):
    user = factories.user(password="old-Pass-9481")
    _, raw = api_token_create(user=user, name="a")
    _, raw2 = api_token_create(user=user, name="b", lifetime="never")
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": "old-Pass-9481",
            "new_password1": "n3w-Secret-7731",
            "new_password2": "n3w-Secret-7731",
        },
    )
    assert response.status_code == 302
    assert (
        _bearer(raw).get("/api/me/").status_code == 401 and _bearer(raw2).get("/api/me/").status_code == 401
    )


def test_resetting_the_password_revokes_every_token(client):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = factories.user()
    _, raw = api_token_create(user=user, name="a")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    url = f"/accounts/password/reset/{uid}/{default_token_generator.make_token(user)}/"
    form_url = client.get(url)["Location"]
    response = client.post(form_url, {"new_password1": "n3w-Secret-7731", "new_password2": "n3w-Secret-7731"})
    assert response.status_code == 302
    assert _bearer(raw).get("/api/me/").status_code == 401


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
