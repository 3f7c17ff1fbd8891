"""The database stopped under the running web server and worker (`python -m mirage_site.serve`, as
`make run` starts them, in an installation of its own): pages answer a plain 503 and the API a JSON 503,
the running job is not lost, and everything works again soon after the database is back, with no
process restarted.

The in-process tests at the end check the same answers without stopping a server: the connection is
pointed at a socket folder where no server listens, which fails exactly as a stopped server does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from apps.operations.instance import Instance
from tests.generation.conftest import tiny_lm_dir, tiny_lora_dir, tiny_sd_dir  # noqa: F401 (fixtures)
from tests.operations.corpora import write_folder


def job_row(instance: Instance, job_id: int) -> dict:
    with instance.connect() as db:
        status, current, attempts, error, notices = db.execute(
            "SELECT status, progress_current, attempts, error, notices FROM generation_job WHERE id = %s",
            [job_id],
        ).fetchone()
    return {"status": status, "progress": current, "attempts": attempts, "error": error, "notices": notices}


def wait_until(condition, *, timeout: float, what: str, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # the database or the server is still on its way back
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


@pytest.fixture
def instance(tmp_path, tiny_sd_dir, tiny_lora_dir, tiny_lm_dir):  # noqa: F811
    # Outside pytest's numbered temporary folders: the server's user must reach it, and a pytest run
    # started meanwhile elsewhere on the machine must not clean it away.
    root = Path(tempfile.mkdtemp(prefix="mirage-drill-"))
    running = Instance(
        root,
        MIRAGE_DIFFUSION_MODEL=tiny_sd_dir,
        MIRAGE_DIFFUSION_LORA=tiny_lora_dir,
        MIRAGE_LLM_MODEL=tiny_lm_dir,
        MIRAGE_WORKERS="1",
        MIRAGE_WEB_WORKERS="2",
        OMP_NUM_THREADS="1",
    )
    try:
        running.migrate()
        corpus = write_folder(tmp_path / "corpus", 3)
        running.manage(
            "import_folder", str(corpus), "--captions", str(corpus / "captions.jsonl"), "--no-embed"
        )
        yield running
    finally:
        running.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_database_outage_answers_503_loses_no_job_and_heals_without_restarts(instance, capsys):
    instance.serve()
    server_pid = instance.server.pid
    with instance.connect() as db:
        (image_id,) = db.execute("SELECT min(id) FROM corpus_image").fetchone()
    page, api = f"/images/{image_id}/", f"/api/images/{image_id}/"
    assert instance.get(page)[0] == 200 and instance.get(api)[0] == 200
    job_id = int(
        instance.shell(
            "from apps.accounts.models import User\n"
            "from apps.generation import services\n"
            "author = User.objects.create_user(username='drill', password='a-Long-pass-phrase-42')\n"
            "job = services.generation_submit(owner=author, prompt='chest x-ray with pneumothorax', "
            "mode=services.QUALITY, steps=50, count=4, seed=9)\n"
            "print(job.pk)\n"
        ).split()[-1]
    )
    wait_until(
        lambda: (
            job_row(instance, job_id)["status"] == "running" and job_row(instance, job_id)["progress"] >= 2
        ),
        timeout=120,
        what="the job to be running",
    )

    stopped_at = time.monotonic()
    instance.stop_database()
    answers = []
    while time.monotonic() - stopped_at < 8:
        answers.append(("page", *instance.get(page)))
        answers.append(("api", *instance.get(api, Accept="application/json")))
        time.sleep(0.5)
    instance.start_database()
    started_at = time.monotonic()

    for kind, status, headers, body in answers:
        assert status == 503, (kind, status, body[:500])
        assert headers.get("Retry-After") == "5"
        assert b"Traceback" not in body
        if kind == "api":
            assert json.loads(body)["error"]["code"] == "unavailable"
        else:
            assert b"Service unavailable" in body
    wait_until(lambda: instance.get(page)[0] == 200, timeout=30, what="the page to answer again", poll=0.1)
    pages_back = time.monotonic() - started_at
    assert instance.get(api)[0] == 200
    assert pages_back < 10

    wait_until(
        lambda: job_row(instance, job_id)["attempts"] == 2, timeout=120, what="the job's retry", poll=0.1
    )
    job_retried = time.monotonic() - started_at
    done = wait_until(
        lambda: (row := job_row(instance, job_id))["status"] in {"succeeded", "failed"} and row,
        timeout=240,
        what="the job to finish",
        poll=0.5,
    )
    job_back = time.monotonic() - started_at
    assert done["status"] == "succeeded", done
    assert job_retried < 30  # the worker queues the retry the moment the database is back
    assert done["attempts"] == 2  # the attempt the outage cut short, then one whole run
    with instance.connect() as db:
        (images,) = db.execute(
            "SELECT count(*) FROM generation_generatedimage WHERE job_id = %s", [job_id]
        ).fetchone()
    assert images == 4
    # No process was restarted: the same server, the web workers and the django-q2 cluster still up.
    assert instance.server.poll() is None and instance.server.pid == server_pid
    assert "exited" not in instance.log_path.read_text()
    with capsys.disabled():
        print(
            f"\n[outage drill] outage {started_at - stopped_at:.1f} s: {len(answers)} answers, all 503; "
            f"pages back {pages_back:.2f} s after the database; job retried after {job_retried:.1f} s, "
            f"finished after {job_back:.1f} s (attempt {done['attempts']})"
        )


# --- in this process: the same answers, fast ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pages_and_api_answer_503_while_the_database_is_unreachable_and_200_after(client, tmp_path):
    from tests import factories

    (image,) = factories.images("CT of the chest.")
    real = connection.settings_dict["HOST"]
    connection.close()
    connection.settings_dict["HOST"] = str(tmp_path)
    try:
        page = client.get(f"/images/{image.pk}/")
        api = client.get(f"/api/images/{image.pk}/", HTTP_ACCEPT="application/json")
        studysets = client.get("/studysets/public/")
    finally:
        connection.close()
        connection.settings_dict["HOST"] = real

    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert b"Service unavailable" in page.content and b"Traceback" not in page.content
    assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable"
    assert studysets.status_code == 503
    assert client.get(f"/images/{image.pk}/").status_code == 200
    assert client.get(f"/api/images/{image.pk}/").status_code == 200
