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
    site) are then made once. Two folders are one unit each: tests/docs/
    (the site test reuses the tutorial runs the notebook test caches) and
    tests/serving/ (its session fixtures export every model once).
    """
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            for folder in ("tests/docs/", "tests/serving/"):
                if path.startswith(folder):
                    return folder
            return path

    return ByFile(config, log)
