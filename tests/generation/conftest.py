"""Tiny generation models built once per session, settings pointing at them, and a real worker process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ml.tiny_generation_models import build_tiny_causal_lm, build_tiny_lcm_lora, build_tiny_sd

ROOT = Path(__file__).resolve().parents[2]
# What the scripted language model writes after any Dolly-style prompt: a citation of source 1.
SCRIPTED_ANSWER = " Air in the pleural space [1]."
MAX_NEW_TOKENS = 16


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine OpenMP threads spinning
    against other processes made a 1-second run take 10."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory) -> str:
    return str(build_tiny_sd(tmp_path_factory.mktemp("tiny-sd")))


@pytest.fixture(scope="session")
def tiny_lora_dir(tmp_path_factory) -> str:
    return str(build_tiny_lcm_lora(tmp_path_factory.mktemp("tiny-lcm-lora")))


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> str:
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-dolly"), script=SCRIPTED_ANSWER))


@pytest.fixture(autouse=True)
def _diffusion_installed(settings, tiny_sd_dir, tiny_lora_dir):
    """Generation is refused up front where its model files are missing; these tests run where the
    (tiny) pipeline and adapter are installed, unless a test names other settings."""
    settings.MIRAGE_DIFFUSION_MODEL = tiny_sd_dir
    settings.MIRAGE_DIFFUSION_LORA = tiny_lora_dir


@pytest.fixture
def tiny_models(settings, tiny_sd_dir, tiny_lora_dir, tiny_lm_dir) -> dict[str, str]:
    """Settings naming the tiny models, as an administrator's environment names the real ones."""
    settings.MIRAGE_DIFFUSION_MODEL = tiny_sd_dir
    settings.MIRAGE_DIFFUSION_LORA = tiny_lora_dir
    settings.MIRAGE_LLM_MODEL = tiny_lm_dir
    settings.MIRAGE_LLM_MAX_NEW_TOKENS = MAX_NEW_TOKENS
    return {
        "MIRAGE_DIFFUSION_MODEL": tiny_sd_dir,
        "MIRAGE_DIFFUSION_LORA": tiny_lora_dir,
        "MIRAGE_LLM_MODEL": tiny_lm_dir,
        "MIRAGE_LLM_MAX_NEW_TOKENS": str(MAX_NEW_TOKENS),
    }


class QCluster:
    """`manage.py qcluster` against the test database: the worker `make run` starts, for real."""

    def __init__(self, *, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=os.environ | env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "ready for work" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"qcluster did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        # The sentinel stops its own workers on SIGTERM; whatever is left after that is killed.
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log_file.close()


@pytest.fixture(scope="module")
def qcluster(django_db_setup, django_db_blocker, tiny_sd_dir, tiny_lora_dir, tiny_lm_dir, tmp_path_factory):
    """One worker cluster for a module's tests (it keeps its loaded models between them, as in
    production). Tests using it must be `transaction=True`, so that what they write is committed
    where the worker can see it, and must use `qcluster.media_root`."""
    from django.db import connection

    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    media = tmp_path_factory.mktemp("worker-media")
    cluster = QCluster(
        env={
            "DJANGO_SETTINGS_MODULE": "mirage_site.settings",
            "MIRAGE_DB_NAME": database,
            "MIRAGE_MEDIA_ROOT": str(media),
            "MIRAGE_DIFFUSION_MODEL": tiny_sd_dir,
            "MIRAGE_DIFFUSION_LORA": tiny_lora_dir,
            "MIRAGE_LLM_MODEL": tiny_lm_dir,
            "MIRAGE_LLM_MAX_NEW_TOKENS": str(MAX_NEW_TOKENS),
            "MIRAGE_WORKERS": "1",
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
        },
        log=tmp_path_factory.mktemp("qcluster") / "qcluster.log",
    )
    cluster.media_root = media
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()
