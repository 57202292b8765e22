"""The docstrings the API pages are made of: present, and with examples.

Every public class and function of the modules below (the package and each
of its public submodules) has a docstring, and the modules that users call
directly carry at least a few `>>>` examples. The examples themselves run
once, in `make test`'s ``pytest --doctest-modules refnn`` step, not here.
"""

import dataclasses
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
    "refnn.cli",
)

# The fewest docstrings with `>>>` examples each module (with its public
# submodules) must carry: the count when this check was written, so an
# example removed by mistake fails here.
MIN_EXAMPLES = {
    "refnn.activations": 10,
    "refnn.losses": 6,
    "refnn.text": 11,
    "refnn.training": 11,
    "refnn.data": 5,
    "refnn.models": 13,
    "refnn.export": 13,
    "refnn.saving": 4,
    "refnn.distribute": 9,
    "refnn.serving": 20,
    "refnn.tutorials": 4,
}


def _docstring(obj):
    """`obj`'s own docstring ('' for the one a dataclass writes itself)."""
    doc = (inspect.getdoc(obj) or "").strip()
    if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc


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
            checked.append(symbol)
            if not _docstring(getattr(module, symbol)):
                missing.append(f"{module.__name__}.{symbol}")
    assert checked, f"{name} has no public symbols"
    assert missing == [], f"{name}: no docstring for {missing}"


@pytest.mark.parametrize("name", sorted(MIN_EXAMPLES))
def test_modules_carry_examples(name):
    finder = doctest.DocTestFinder()
    with_examples = sorted(
        {
            test.name
            for module in _with_submodules(name)
            for test in finder.find(module)
            if test.examples
        }
    )
    assert len(with_examples) >= MIN_EXAMPLES[name], (
        f"{name}: only {len(with_examples)} docstrings with examples, "
        f"expected at least {MIN_EXAMPLES[name]}: {with_examples}"
    )


def test_doctest_blocks_render_as_code_on_the_api_pages():
    import griffe_doctest

    text = (
        "Example:\n\n>>> x = 1\n... + 1\n>>> x\n2\n\nAfter.\n\n"
        "```python\n>>> kept\n```"
    )
    assert griffe_doctest.fence_doctests(text).split("\n") == [
        "Example:",
        "",
        "```pycon",
        ">>> x = 1",
        "... + 1",
        ">>> x",
        "2",
        "```",
        "",
        "After.",
        "",
        "```python",
        ">>> kept",
        "```",
    ]
    indented = griffe_doctest.fence_doctests("Args:\n    >>> 1\n    1")
    assert indented == "Args:\n    ```pycon\n    >>> 1\n    1\n    ```"
