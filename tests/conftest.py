"""Shared test set-up: the real embedded PostgreSQL (pytest-django's test database), media in a
temporary folder, and no network for models."""

from __future__ import annotations

import os
import shutil

import pytest

# Models come from local folders only; the hub is unreachable here and tests must not try it.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _offline_clip(settings, tmp_path_factory):
    """By default the CLIP model is the paper's hub model, which is not installed here: tests see the
    platform as a fresh offline install does. Tests that need a CLIP space point it at a tiny model."""
    settings.MIRAGE_CLIP_MODEL = "hf-hub:luhuitong/CLIP-ViT-L-14-448px-MedICaT-ROCO"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")
    return path


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory):
    """A tiny open_clip model saved in the real local-dir format (open_clip_config.json + weights)."""
    from tests.ml.tiny_models import build_tiny_open_clip

    return build_tiny_open_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The real hasher costs ~0.3 s per user on two cores; tests check behaviour, not hashing cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people():
    """One of each kind of visitor an access test checks: the owner of the thing, another student, an
    instructor, a moderator, and an anonymous visitor (None)."""
    from tests import factories

    return {
        "owner": factories.user(),
        "student": factories.user(),
        "instructor": factories.user(role="instructor"),
        "moderator": factories.user(role="moderator"),
        "anonymous": None,
    }


class SmallFilesystems:
    """Real, small file systems (tmpfs) mounted in temporary folders, to run out of disk space on
    purpose. Needs root and a kernel that lets this sandbox mount tmpfs; the test is skipped otherwise."""

    def __init__(self, base) -> None:
        self.base = base
        self.mounted = []

    def mount(self, kib: int):
        import subprocess

        folder = self.base / f"small-fs-{len(self.mounted)}"
        folder.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k,mode=0755", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.strip()}")
        self.mounted.append(folder)
        return folder

    @staticmethod
    def grow(folder, kib: int) -> None:
        """Give the file system more room (an administrator freeing space)."""
        import subprocess

        subprocess.run(["mount", "-o", f"remount,size={kib}k", str(folder)], check=True)

    @staticmethod
    def fill(folder, *, leave_kib: int) -> None:
        """Fill the file system holding `folder` until about `leave_kib` KiB are free."""
        free = shutil.disk_usage(folder).free - leave_kib * 1024
        if free > 0:
            (folder / "filler.bin").write_bytes(b"\0" * free)

    def unmount_all(self) -> None:
        import subprocess

        for folder in self.mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def small_filesystem(tmp_path):
    filesystems = SmallFilesystems(tmp_path)
    yield filesystems
    filesystems.unmount_all()
