"""The docstrings the API pages are made of: present, and with examples.

Every public class and function of the modules below (the package and each
of its public submodules) has a docstring, and the modules that users call
directly carry at least a few `>>>` examples. The examples themselves run
once, in `make test`'s ``pytest --doctest-modules refnn`` step, not here.
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
    "refnn.models",
    "refnn.export",
    "refnn.saving",
    "refnn.distribute",
    "refnn.serving",
    "refnn.testing",
    "refnn.tutorials",
)

# The fewest `>>>` examples each module (with its submodules) must carry.
MIN_EXAMPLES = {
    "refnn.activations": 4,
    "refnn.losses": 4,
    "refnn.text": 4,
    "refnn.training": 4,
    "refnn.data": 4,
    "refnn.models": 12,
    "refnn.export": 4,
    "refnn.saving": 2,
    "refnn.distribute": 3,
    "refnn.serving": 4,
}


def _with_submodules(name):
    module = importlib.import_module(name)
    found = [module]
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if not info.name.startswith("_"):
            found.append(importlib.import_module(f"{name}.{info.name}"))
    return found


@pytest.mark.parametrize("name", MODULES)
def test_every_public_symbol_has_a_docstring(name):
    checked, missing = [], []
    for module in _with_submodules(name):
        for symbol in site_build.public_symbols(module):
            obj = getattr(module, symbol)
            checked.append(symbol)
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{module.__name__}.{symbol}")
    assert checked, f"{name} has no public symbols"
    assert missing == [], f"{name}: no docstring for {missing}"


@pytest.mark.parametrize("name", sorted(MIN_EXAMPLES))
def test_modules_carry_examples(name):
    finder = doctest.DocTestFinder()
    examples = {
        test.name: len(test.examples)
        for module in _with_submodules(name)
        for test in finder.find(module)
        if test.examples
    }
    total = sum(examples.values())
    assert total >= MIN_EXAMPLES[name], (
        f"{name}: only {total} examples ({examples})"
    )
