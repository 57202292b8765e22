"""A griffe extension: docstring examples render as code on the API pages.

refnn's docstrings follow Keras's style: an ``Example:`` line, then ``>>>``
examples (doctests, run by `make test`) at the docstring's own indentation.
Markdown reads ``>>>`` as three nested quotes and drops the prompts, so
each doctest block (from a ``>>>`` line to the next blank line) is wrapped
in a ``pycon`` code fence before the docstring is rendered.
"""

import griffe

FENCE = "```"


def fence_doctests(text):
    """Wraps every doctest block of `text` in a ``pycon`` fence.

    A block runs from a line starting with ``>>>`` to the next blank line
    (as doctest reads it); code already inside a fence is left alone.
    """
    out, in_block, in_fence, indent = [], False, False, ""
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(FENCE):
            in_fence = not in_fence
        if in_block and not stripped:
            out.append(indent + FENCE)
            in_block = False
        elif not in_block and not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(indent + FENCE + "pycon")
            in_block = True
        out.append(line)
    if in_block:
        out.append(indent + FENCE)
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fences the doctest blocks of every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
