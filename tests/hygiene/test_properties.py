"""Property tests over generated notebooks: strip keeps what it must and is idempotent; lint
never crashes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_nb.lint import LintOptions, lint_notebook
from mlops_nb.nbstripout_adapter import StripOptions, notebook_text, strip_notebook

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
tags = st.lists(
    st.sampled_from(["parameters", "keep_output", "scratch", "ünï", "x y"]), max_size=3, unique=True
)
outputs = st.lists(
    st.one_of(
        st.builds(lambda t: {"output_type": "stream", "name": "stdout", "text": t}, text),
        st.builds(
            lambda n, t: {
                "output_type": "execute_result",
                "execution_count": n,
                "metadata": {},
                "data": {"text/plain": t},
            },
            st.integers(1, 50),
            text,
        ),
        st.builds(
            lambda e: {"output_type": "error", "ename": e, "evalue": e, "traceback": []}, text
        ),
    ),
    max_size=3,
)
metadata = st.fixed_dictionaries(
    {},
    optional={
        "tags": tags,
        "collapsed": st.booleans(),
        "scrolled": st.booleans(),
        "ExecuteTime": st.just({"end_time": "2026"}),
        "custom": text,
    },
)
source = st.one_of(text, st.lists(text, max_size=4))


@st.composite
def cells(draw: st.DrawFn, with_ids: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["code", "code", "markdown", "raw"]))
    cell: dict[str, Any] = {"cell_type": kind, "metadata": draw(metadata), "source": draw(source)}
    if kind == "code":
        cell["execution_count"] = draw(st.one_of(st.none(), st.integers(1, 99)))
        cell["outputs"] = draw(outputs)
    return cell


@st.composite
def notebooks(draw: st.DrawFn) -> dict[str, Any]:
    minor = draw(st.integers(0, 5))
    body = draw(st.lists(cells(minor >= 5), max_size=8))
    for i, cell in enumerate(body):
        if minor >= 5:
            cell["id"] = f"id-{i}-{draw(st.text('abcdef0123456789', min_size=1, max_size=8))}"
    md = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "kernelspec": st.just({"name": "python3", "display_name": "Python 3"}),
                "widgets": st.just({"state": {}}),
                "custom": text,
            },
        )
    )
    return {"cells": body, "metadata": md, "nbformat": 4, "nbformat_minor": minor}


def _kept(nb: dict[str, Any]) -> list[tuple[Any, ...]]:
    def src(c: dict[str, Any]) -> str:
        s = c["source"]
        return s if isinstance(s, str) else "".join(s)

    return [(c.get("id"), c["cell_type"], src(c), c["metadata"].get("tags")) for c in nb["cells"]]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(notebooks(), st.booleans(), st.booleans())
def test_strip_keeps_sources_order_ids_tags_and_is_idempotent(
    nb: dict[str, Any], keep_output: bool, keep_count: bool
) -> None:
    opts = StripOptions(keep_output=keep_output, keep_count=keep_count)
    original = json.loads(json.dumps(nb))
    once = strip_notebook(nb, options=opts)
    assert nb == original  # the input is not modified
    assert _kept(once) == _kept(nb)
    twice = strip_notebook(once, options=opts)
    assert twice == once
    # What is written reads back as the same notebook, and stripping it changes nothing.
    written = json.loads(notebook_text(once))
    assert _kept(written) == _kept(nb)
    assert strip_notebook(written, options=opts) == written
    for cell in once["cells"]:
        if cell["cell_type"] == "code" and not keep_count:
            assert cell["execution_count"] is None
        if (
            cell["cell_type"] == "code"
            and not keep_output
            and "keep_output" not in (cell["metadata"].get("tags") or [])
        ):
            assert cell["outputs"] == []


junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "tags",
                    "outputs",
                    "source",
                    "execution_count",
                    "metadata",
                    "output_type",
                    "name",
                    "id",
                    "kernelspec",
                    "text",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)


@st.composite
def malformed(draw: st.DrawFn) -> dict[str, Any]:
    body = []
    for _ in range(draw(st.integers(0, 5))):
        cell = draw(
            st.dictionaries(
                st.sampled_from(["metadata", "outputs", "execution_count", "id"]), junk, max_size=4
            )
        )
        cell["cell_type"] = draw(st.sampled_from(["code", "markdown", "raw"]))
        cell["source"] = draw(st.one_of(text, st.lists(st.one_of(text, st.integers()))))
        body.append(cell)
    return {"cells": body, "metadata": draw(junk), "nbformat": 4, "nbformat_minor": 5}


@SETTINGS
@given(st.one_of(notebooks(), malformed()), st.integers(1, 5), st.integers(0, 50))
def test_lint_never_crashes(nb: dict[str, Any], lines: int, size: int) -> None:
    findings = lint_notebook(nb, options=LintOptions(max_cell_lines=lines, max_output_bytes=size))
    for f in findings:
        assert f.code.startswith("NB")
        assert f.cell is None or 1 <= f.cell <= len(nb["cells"])


@SETTINGS
@given(malformed())
def test_strip_fails_only_with_a_notebook_error(nb: dict[str, Any]) -> None:
    from mlops_nb.errors import NotebookError

    message = ""
    try:
        strip_notebook(nb, options=StripOptions())
    except NotebookError as e:
        message = e.message
    assert message == "" or message.startswith("cannot strip")


@SETTINGS
@given(notebooks(), st.sampled_from([None, False, True]), st.booleans(), st.sampled_from([0, 30]))
def test_adapter_matches_plain_nbstripout(
    nb: dict[str, Any], keep_output: bool | None, keep_count: bool, max_size: int
) -> None:
    """The adapter's shortcuts (shallow copies, outputs cleared in advance) change nothing."""
    from nbformat import from_dict
    from nbstripout import strip_output

    from mlops_nb.nbstripout_adapter import DEFAULT_EXTRA_KEYS

    opts = StripOptions(keep_output=keep_output, keep_count=keep_count, max_size=max_size)
    expected = strip_output(
        nb=from_dict(json.loads(json.dumps(nb))),  # type: ignore[no-untyped-call]  # nbformat is untyped
        keep_output=keep_output,
        keep_count=keep_count,
        keep_id=True,
        extra_keys=list(DEFAULT_EXTRA_KEYS),
        max_size=max_size,
    )
    assert strip_notebook(nb, options=opts) == expected
