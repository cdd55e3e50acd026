"""Writes the golden input notebooks; with ``--expected``, also the expected outputs.

    python -m tests.make_golden             # inputs only (review the diff!)
    python -m tests.make_golden --expected  # regenerate expected files from the code

Inputs are written once and committed; expected files are reviewed by hand when regenerated.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "golden"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def cell(kind: str, source: str | list[str], **kw: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"cell_type": kind, "metadata": kw.pop("metadata", {}), "source": source}
    if kind == "code":
        c["execution_count"] = kw.pop("count", None)
        c["outputs"] = kw.pop("outputs", [])
    if "tags" in kw:
        c["metadata"]["tags"] = kw.pop("tags")
    c.update(kw)
    return c


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"name": name, "output_type": "stream", "text": text}


def result(n: int | None, text: str) -> dict[str, Any]:
    return {
        "data": {"text/plain": text},
        "execution_count": n,
        "metadata": {},
        "output_type": "execute_result",
    }


def image(size: int = 1) -> dict[str, Any]:
    return {
        "data": {"image/png": PNG * size, "text/plain": "<Figure size 640x480 with 1 Axes>"},
        "metadata": {},
        "output_type": "display_data",
    }


def error(ename: str, evalue: str) -> dict[str, Any]:
    return {
        "ename": ename,
        "evalue": evalue,
        "output_type": "error",
        "traceback": [f"\x1b[0;31m{ename}\x1b[0m: {evalue}"],
    }


def nb(
    *cells: dict[str, Any], minor: int = 5, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    out = []
    for i, c in enumerate(cells):
        c = dict(c)
        if minor >= 5:
            c.setdefault("id", f"c{i}-{c['cell_type'][:2]}")
        else:
            c.pop("id", None)
        out.append(c)
    md = {"kernelspec": KERNELSPEC, "language_info": {"name": "python", "version": "3.11.9"}}
    if metadata is not None:
        md = metadata
    return {"cells": out, "metadata": md, "nbformat": 4, "nbformat_minor": minor}


def old_nb(*cells: dict[str, Any], version: int = 3, **metadata: Any) -> dict[str, Any]:
    """An nbformat 2/3 notebook: cells in worksheets, code in ``input``, ``prompt_number``."""
    top: dict[str, Any] = {"metadata": {"name": "", **metadata}, "nbformat": version}
    if version == 3:
        top["nbformat_minor"] = 0
    return {**top, "worksheets": [{"cells": list(cells), "metadata": {}}]}


def C3(
    src: str, count: int | None = None, outputs: list[Any] | None = None, **md: Any
) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "collapsed": False,
        "input": src,
        "language": "python",
        "metadata": md,
        "outputs": outputs or [],
        "prompt_number": count,
    }


def stream3(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "stream": "stdout", "text": text}


def no_key(nb: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in nb.items() if k not in ("nbformat", "nbformat_minor")}


def P(src: str = "alpha = 0.5  # learning rate\nn: int = 10\n", **kw: Any) -> dict[str, Any]:
    return cell("code", src, tags=["parameters"], **kw)


def C(src: str, **kw: Any) -> dict[str, Any]:
    return cell("code", src, **kw)


def M(src: str, **kw: Any) -> dict[str, Any]:
    return cell("markdown", src, **kw)


LINT: dict[str, dict[str, Any]] = {
    "clean_stripped": nb(M("# Train"), P(), C("import math\n"), C("print(math.pi * alpha)\n")),
    "clean_executed": nb(
        M("# Train"),
        P(count=1),
        C("import math\n", count=2),
        C("math.pi * alpha", count=3, outputs=[result(3, "1.57")]),
    ),
    "empty_cells_ignored": nb(
        P(count=1), C("", count=None), C("x = 1", count=2), C("  \n", count=None)
    ),
    "out_of_order": nb(P(count=1), C("a = 1", count=3), C("b = a", count=2)),
    "not_restarted": nb(P(count=5), C("a = 1", count=6), C("b = a", count=7)),
    "rerun_gap": nb(P(count=1), C("a = 1", count=2), C("b = a", count=4)),
    "mixed": nb(P(count=1), C("a = 1", count=None), C("b = 2", count=2)),
    "error_output": nb(
        P(count=1), C("1 / 0", count=2, outputs=[error("ZeroDivisionError", "division by zero")])
    ),
    "no_params": nb(M("no parameters"), C("a = 1")),
    "two_params": nb(P(), C("a = 1"), P("beta = 2\n")),
    "params_not_first": nb(C("import os"), P()),
    "params_non_literal": nb(
        P(
            "from pathlib import Path\n%matplotlib inline\nalpha = 0.5\n"
            "data = Path('data.csv')\nprint(alpha)\n"
        )
    ),
    "params_syntax_error": nb(P("alpha = = 1\n")),
    "long_cell": nb(P(), C("".join(f"x{i} = {i}\n" for i in range(31)))),
    "long_cell_blank_lines_ok": nb(P(), C("".join(f"x{i} = {i}\n\n" for i in range(30)))),
    "definitions": nb(
        P(),
        C("def helper(x):\n    return x\n\n\nclass Model:\n    pass\n"),
        C("async def fetch():\n    pass\n"),
        C("%%bash\necho def not python\n"),
        C("f = lambda x: x  # lambdas are fine\n"),
    ),
    "big_output": nb(P(count=1), C("plot()", count=2, outputs=[image(size=1500)])),
    "no_kernelspec": nb(P(), C("a = 1"), metadata={"language_info": {"name": "python"}}),
    "unicode": nb(
        M("# Données 🚀 日本語"),
        P("titre = 'café ☕'  # nom\n", count=1),
        C("print(titre)", count=2, outputs=[stream("café ☕\n")]),
    ),
    "widgets": nb(
        P(),
        C("w"),
        metadata={
            "kernelspec": KERNELSPEC,
            "widgets": {
                "application/vnd.jupyter.widget-state+json": {
                    "state": {},
                    "version_major": 2,
                    "version_minor": 0,
                }
            },
        },
    ),
    "everything_wrong": nb(
        C("import os", count=4),
        P("x = os.getcwd()", count=2),
        C("def f():\n    1/0\n", count=None),
        C("f()", count=3, outputs=[error("ZeroDivisionError", "oops")]),
        metadata={},
    ),
    **{f"nbformat_4_{m}_clean": nb(P(count=1), C("a = 1", count=2), minor=m) for m in range(5)},
    "nbformat_4_0_out_of_order": nb(P(count=2), C("a = 1", count=1), minor=0),
    "nbformat_3_clean": old_nb(
        C3("a = 1", count=1, tags=["parameters"]), C3("print(a)", count=2), kernelspec=KERNELSPEC
    ),
    "nbformat_3_out_of_order": old_nb(
        C3("a = 1", count=1, tags=["parameters"]), C3("b = 2", count=3), C3("c = 3", count=2)
    ),
    "nbformat_2": old_nb(C3("print(1)", count=1), version=2),
    "no_nbformat_key_out_of_order": no_key(nb(P(count=2), C("a = 1", count=1))),
}

STRIP_INPUTS: dict[str, dict[str, Any]] = {
    "executed": nb(
        M("# Train 🚀", metadata={"jp-MarkdownHeadingCollapsed": True}),
        P(
            count=1,
            metadata={
                "ExecuteTime": {"end_time": "2026-11-01T10:00:00"},
                "execution": {"iopub.status.busy": "2026-11-01"},
            },
        ),
        C(
            "import math\nprint('données')\n",
            count=2,
            outputs=[stream("données\n")],
            metadata={"collapsed": False, "scrolled": True},
        ),
        C("plot()", count=3, outputs=[image()], tags=["keep_output"]),
        C(
            "math.pi",
            count=4,
            outputs=[result(4, "3.14")],
            metadata={"papermill": {"duration": 0.1, "status": "completed"}},
        ),
        C("", count=None),
        C("scratch()", count=5, outputs=[stream("warn\n", "stderr")], tags=["scratch"]),
        C("debug()", count=6, outputs=[], tags=["debug"]),
        C("setup()", count=7, outputs=[stream("init\n")], metadata={"init_cell": True}),
        metadata={
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python", "version": "3.11.9"},
            "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
            "papermill": {"parameters": {"alpha": 0.1}},
            "signature": "sha256:abc",
            "custom": {"keep": "me"},
        },
    ),
    "stripped": nb(M("# Done"), P(), C("a = 1\n")),
    "nbformat_3": old_nb(
        {"cell_type": "markdown", "metadata": {}, "source": "# Old"},
        C3("alpha = 1", count=1, tags=["parameters"]),
        C3("print(alpha)", count=2, outputs=[stream3("1\n")]),
        C3("", count=None),
        kernelspec=KERNELSPEC,
    ),
    "nbformat_2": old_nb(C3("print(1)", count=1, outputs=[stream3("1\n")]), version=2),
    "no_nbformat_key": no_key(
        nb(P(count=1), C("print(1)", count=2, outputs=[stream("1\n")]), minor=5)
    ),
    **{
        f"nbformat_4_{m}": nb(
            P(count=1),
            C("print(1)", count=2, outputs=[stream("1\n")], metadata={"scrolled": True}),
            minor=m,
        )
        for m in range(5)
    },
}

# case -> (input, [tool.mlops-nb.strip] options)
STRIP_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("executed", {}),
    "keep_count": ("executed", {"keep-count": True}),
    "keep_output": ("executed", {"keep-output": True}),
    "extra_keys": (
        "executed",
        {"extra-keys": ["metadata.custom", "metadata.language_info.version"]},
    ),
    "keep_metadata_keys": (
        "executed",
        {"keep-metadata-keys": ["metadata.widgets", "cell.metadata.scrolled"]},
    ),
    "drop_empty_cells": ("executed", {"drop-empty-cells": True}),
    "drop_tagged_cells": ("executed", {"drop-tagged-cells": ["scratch", "debug"]}),
    "strip_init_cells": ("executed", {"strip-init-cells": True}),
    "drop_output_types": (
        "executed",
        {"keep-output": True, "drop-output-types": ["stream:stderr"]},
    ),
    "keep_output_types": ("executed", {"keep-output-types": ["stream"]}),
    "max_size": ("executed", {"max-size": "40"}),
    "already_stripped": ("stripped", {}),
    **{f"nbformat_4_{m}": (f"nbformat_4_{m}", {}) for m in range(5)},
    "nbformat_3": ("nbformat_3", {}),
    "nbformat_3_drop_empty_cells": ("nbformat_3", {"drop-empty-cells": True}),
    "nbformat_2": ("nbformat_2", {}),
    "no_nbformat_key": ("no_nbformat_key", {}),
}


def dump(obj: dict[str, Any]) -> str:
    # Not nbformat's layout on purpose (keys unsorted, sources as strings): stripped files must
    # come out in nbformat's layout all the same.
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def write_inputs() -> None:
    for name, notebook in LINT.items():
        (HERE / "lint" / f"{name}.ipynb").write_text(dump(notebook), encoding="utf-8")
    (HERE / "lint" / "invalid_json.ipynb").write_text(
        '{"cells": [\n  {"cell_type": "code",\n', encoding="utf-8"
    )
    (HERE / "lint" / "not_a_notebook.ipynb").write_text('["a", "list"]\n', encoding="utf-8")
    (HERE / "lint" / "nbformat_3_malformed.ipynb").write_text(
        json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}) + "\n", encoding="utf-8"
    )
    for name, notebook in STRIP_INPUTS.items():
        (HERE / "strip" / f"{name}.ipynb").write_text(dump(notebook), encoding="utf-8")
    cases = "".join(
        f"[{case}]\ninput = {json.dumps(src)}\n"
        + "".join(f"options.{k} = {json.dumps(v)}\n" for k, v in opts.items())
        + "\n"
        for case, (src, opts) in STRIP_CASES.items()
    )
    (HERE / "strip" / "cases.toml").write_text(cases, encoding="utf-8")


def write_expected() -> None:
    from mlops_nb.lint import lint_paths
    from mlops_nb.nbstripout_adapter import notebook_text
    from mlops_nb.strip import options_from_table, strip_notebook

    for path in sorted((HERE / "lint").glob("*.ipynb")):
        report = lint_paths([path])
        lines = [f.format() for f in [*report.unreadable, *report.findings]]
        text = "".join(line.replace(str(path), path.name) + "\n" for line in lines)
        path.with_suffix(".expected.txt").write_text(text, encoding="utf-8")
    cases = tomllib.loads((HERE / "strip" / "cases.toml").read_text(encoding="utf-8"))
    for case, spec in cases.items():
        src = json.loads((HERE / "strip" / f"{spec['input']}.ipynb").read_text(encoding="utf-8"))
        opts = options_from_table(
            {k.replace("-", "_"): v for k, v in spec.get("options", {}).items()}, where=case
        )
        out = notebook_text(strip_notebook(src, options=opts))
        (HERE / "strip" / f"{case}.expected.ipynb").write_text(out, encoding="utf-8")


if __name__ == "__main__":
    write_inputs()
    if "--expected" in sys.argv:
        write_expected()
