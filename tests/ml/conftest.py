import os

import pytest

# huggingface_hub reads HF_HUB_OFFLINE once, when it is first imported, so it is set here, before any
# test module imports it. Tests must never reach for the network.
os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def hub_offline(monkeypatch):
    """Offline even when something imported huggingface_hub before this conftest set the variable."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
