"""Shared pytest setup: TensorFlow backend, quiet logs, a seed per test."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_clear():
    keras.utils.set_random_seed(1337)
    yield
    keras.backend.clear_session()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`pytest -n 2`: each test file runs whole on one worker process.

    A file's module fixtures (a trained model, a running server, a built
    site) are then made once, and tests/docs/ is one unit: the site test
    reuses the tutorial runs that the notebook test caches.
    """
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return "tests/docs" if path.startswith("tests/docs/") else path

    return ByFile(config, log)
