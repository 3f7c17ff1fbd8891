"""A user's time zone: set on the profile page, checked by the service, reported by /api/me."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.services import user_set_time_zone
from apps.core.errors import UserError
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_user_sets_their_time_zone_on_the_profile_and_goes_back_where_they_came_from(client):
    user = factories.user()
    client.force_login(user)

    form = client.get(reverse("accounts:profile")).content.decode()
    saved = client.post(reverse("accounts:profile") + "?next=/quizzes/", {"time_zone": "America/New_York"})

    assert '<option value="Europe/Madrid">Europe/Madrid</option>' in form
    assert saved.status_code == 302 and saved.url == "/quizzes/"
    user.refresh_from_db()
    assert user.time_zone == "America/New_York"
    assert 'value="America/New_York" selected' in client.get(reverse("accounts:profile")).content.decode()


def test_an_unknown_time_zone_is_refused_and_the_old_one_kept(client):
    user = factories.user(time_zone="Europe/Madrid")
    client.force_login(user)

    refused = client.post(reverse("accounts:profile"), {"time_zone": "Mars/Olympus_Mons"})

    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    user.refresh_from_db()
    assert user.time_zone == "Europe/Madrid"
    with pytest.raises(UserError, match="not a time zone"):
        user_set_time_zone(user=user, time_zone="Mars/Olympus_Mons")


def test_the_servers_time_zone_is_the_default_and_api_me_reports_the_users(settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    user = factories.user()
    api = factories.api_as(user)

    assert api.get("/api/me/").json()["time_zone"] == "Europe/Lisbon"
    user_set_time_zone(user=user, time_zone="Asia/Tokyo")
    assert api.get("/api/me/").json()["time_zone"] == "Asia/Tokyo"
    user_set_time_zone(user=user, time_zone="")
    assert api.get("/api/me/").json()["time_zone"] == "Europe/Lisbon"
