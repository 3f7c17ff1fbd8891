"""`manage.py backup` and `manage.py restore`: a round trip from one installation into a fresh data folder,
restored while the old installation's database is stopped, compares row counts, embedding vectors and
media file hashes; a damaged archive is refused before anything changes."""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

from apps.operations.instance import Instance
from tests.operations.corpora import file_hashes, write_folder

pytestmark = pytest.mark.slow

SNAPSHOT = """
import json
from django.db import connection
from apps.operations.backup import table_rows
with connection.cursor() as cursor:
    cursor.execute("SELECT image_id, space_id, vector::text FROM corpus_embedding ORDER BY 1, 2")
    vectors = cursor.fetchall()
print(json.dumps({"rows": table_rows(), "vectors": vectors}))
"""

CONTENT = """
import numpy as np
from apps.accounts.models import User
from apps.corpus.models import Embedding, EmbeddingSpace, Image
from apps.studysets.services import studyset_add_image, studyset_create
owner = User.objects.create_user(username="keeper", password="a-Long-pass-phrase-42")
saved = studyset_create(owner=owner, title="Liver cases")
space = EmbeddingSpace.objects.create(name="caption", model="test-model", target="caption", dim=384)
rng = np.random.default_rng(7)
for image in Image.objects.order_by("pk"):
    studyset_add_image(studyset=saved, user=owner, image_id=image.pk, note=f"note {image.pk}")
    Embedding.objects.create(image=image, space=space, vector=rng.standard_normal(384).astype("float32"))
"""


def snapshot(instance: Instance) -> dict:
    return json.loads(instance.shell(SNAPSHOT).strip().splitlines()[-1])


@pytest.fixture
def roots():
    # Outside pytest's numbered temporary folders (see test_database_outage.py).
    made = [Path(tempfile.mkdtemp(prefix="mirage-backup-")) for _ in range(3)]
    yield made
    for root in made:
        shutil.rmtree(root, ignore_errors=True)


def test_a_backup_restored_into_a_fresh_data_folder_has_the_same_rows_vectors_and_files(roots, capsys):
    old_root, new_root, scratch = roots
    old = Instance(old_root)
    old.migrate()
    corpus = write_folder(scratch / "corpus", 5)
    old.manage("import_folder", str(corpus), "--captions", str(corpus / "captions.jsonl"), "--no-embed")
    old.shell(CONTENT)
    before = snapshot(old)
    files_before = file_hashes(old.var / "media")

    made = old.manage("backup", str(scratch))
    (archive,) = scratch.glob("mirage-backup-*.tar")
    assert "backup written" in made.stdout

    # The old installation is down: its last process has exited, so its database is stopped.
    assert not old.database_running()
    new = Instance(new_root)
    restored = new.manage("restore", str(archive))
    assert "all matching the manifest" in restored.stdout

    after = snapshot(new)
    assert after["rows"] == before["rows"]
    assert before["rows"]["corpus_image"] == 5 and before["rows"]["studysets_studysetitem"] == 5
    assert after["vectors"] == before["vectors"] and len(before["vectors"]) == 5
    assert file_hashes(new.var / "media") == files_before and len(files_before) == 10
    assert new.manage("migrate", "--check", check=False).returncode == 0  # the schema is whole
    assert new.manage("media", "check", check=False).returncode == 0

    with capsys.disabled():
        print(f"\n[backup drill] {made.stdout.strip()}\n[backup drill] {restored.stdout.strip()}")
    again = new.manage("restore", str(archive), check=False)
    assert again.returncode != 0 and "--replace" in again.stderr
    assert new.manage("restore", str(archive), "--replace").returncode == 0
    assert snapshot(new) == after


def test_a_damaged_archive_is_refused_and_nothing_is_changed(roots):
    root, _, scratch = roots
    installed = Instance(root)
    installed.migrate()
    corpus = write_folder(scratch / "corpus", 2)
    installed.manage("import_folder", str(corpus), "--captions", str(corpus / "captions.jsonl"), "--no-embed")
    archive = scratch / "backup.tar"
    installed.manage("backup", str(archive))
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("media/images/"))
    with archive.open("r+b") as raw:  # flip one byte of one image inside the archive
        raw.seek(member.offset_data + 100)
        byte = raw.read(1)
        raw.seek(member.offset_data + 100)
        raw.write(bytes([byte[0] ^ 0xFF]))
    files_before = file_hashes(installed.var / "media")

    refused = installed.manage("restore", str(archive), "--replace", check=False)

    assert refused.returncode != 0
    assert f"{member.name} does not match its SHA-256" in refused.stderr
    assert file_hashes(installed.var / "media") == files_before
    assert snapshot(installed)["rows"]["corpus_image"] == 2
    assert not list(installed.var.glob(".restore-*"))  # the unpacked copy is gone
