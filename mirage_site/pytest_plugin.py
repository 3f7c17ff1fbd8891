"""The test run is an entry point like manage.py: prepare folders and the database before
pytest-django loads the settings (registered with `-p` in pyproject.toml)."""

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    from mirage_site.bootstrap import prepare

    prepare()
