"""The docstrings the API pages are made of: present, and their examples run.

Covers the modules `refnn.activations`, `refnn.losses`, `refnn.text`,
`refnn.training` and `refnn.data`: every public class and function has a
docstring, and every `>>>` example in them runs as a doctest.
"""

import doctest
import importlib
import inspect
import pkgutil

import pytest
import site_build

MODULES = (
    "refnn.activations",
    "refnn.losses",
    "refnn.text",
    "refnn.training",
    "refnn.data",
)


def _with_submodules(name):
    module = importlib.import_module(name)
    found = [module]
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        found.append(importlib.import_module(f"{name}.{info.name}"))
    return found


@pytest.mark.parametrize("name", MODULES)
def test_every_public_symbol_has_a_docstring(name):
    module = importlib.import_module(name)
    symbols = site_build.public_symbols(module)
    assert symbols, f"{name} has no public symbols"
    missing = [
        s for s in symbols if not (inspect.getdoc(getattr(module, s)) or "")
    ]
    assert missing == [], f"{name}: no docstring for {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    report = []
    for module in _with_submodules(name):
        for test in doctest.DocTestFinder().find(module):
            runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert runner.tries >= 4, f"{name}: only {runner.tries} examples"
