"""Parsers a module builds at import time (``rfc3987_syntax``, imported by jsonschema where
JupyterLab is installed) are built on first use in each kernel, not in the fork template: the
same module, the same parse trees and errors, a ``lark.Lark``, and no hook left behind."""

from __future__ import annotations

import importlib
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lark
import pytest

from mlops_nb.kernels import _grammars, forking
from mlops_nb.sweep.api import sweep
from tests import nbbuild as b

GRAMMAR = 'start: word+\\nword: /[ab]+/ " "?\\n'
MODULE = f"from lark import Lark\n\nparser = Lark('{GRAMMAR}', parser='earley')\n"


def reference() -> lark.Lark:
    return lark.Lark(GRAMMAR.replace("\\n", "\n"), parser="earley")


@pytest.fixture
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path with ``slowgrammar`` (builds a parser at import) and ``eager`` (the
    same module under another name)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    for name in ("slowgrammar", "eager"):
        (folder / f"{name}.py").write_text(MODULE)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_a_named_module_builds_its_parser_on_first_use_as_lark_would(lib: Path) -> None:
    meta_path = list(sys.meta_path)
    with _grammars.deferring(["slowgrammar"]):
        eager = importlib.import_module("eager")
        slowgrammar = importlib.import_module("slowgrammar")
    assert sys.meta_path == meta_path  # no hook left
    assert lark.Lark is lark.lark.Lark
    assert "parser" in vars(eager.parser)  # not named: built at import as usual
    parser = slowgrammar.parser
    assert isinstance(parser, lark.Lark)
    assert type(parser).__name__ == "Lark" and type(parser).__module__ == "lark.lark"
    assert "parser" not in vars(parser)  # not built yet
    assert parser.parse("ab ba") == reference().parse("ab ba")
    assert "parser" in vars(parser)
    assert type(parser) is lark.Lark  # built: a plain Lark from now on
    with pytest.raises(lark.exceptions.UnexpectedCharacters):
        parser.parse("abc")
    with pytest.raises(AttributeError, match="no attribute 'not_there'"):
        parser.not_there  # type: ignore[attr-defined]  # noqa: B018


def test_a_bad_grammar_fails_when_first_used() -> None:
    parser = _grammars.deferred(lark.Lark)("start: undefined_rule\n")
    with pytest.raises(lark.exceptions.GrammarError):
        parser.parse("x")
    with pytest.raises(AttributeError, match="no attribute 'parser'"):
        parser.parse("x")  # not built: it has nothing to parse with


def test_threads_using_an_unbuilt_parser_at_once_get_the_same_trees() -> None:
    parser = _grammars.deferred(lark.Lark)(GRAMMAR.replace("\\n", "\n"), parser="earley")
    start = threading.Barrier(4)

    def use(text: str) -> object:
        start.wait()
        return parser.parse(text)

    texts = ["ab", "ba ab", "a", "bb a"]
    with ThreadPoolExecutor(4) as pool:
        trees = list(pool.map(use, texts))
    assert trees == [reference().parse(t) for t in texts]


def test_without_lark_the_module_imports_as_usual(
    lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (lib / "plain.py").write_text("VALUE = 42\n")
    monkeypatch.delitem(sys.modules, "plain", raising=False)
    monkeypatch.setitem(sys.modules, "lark", None)
    with _grammars.deferring(["plain", "no_such_module"]):
        plain = importlib.import_module("plain")
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("no_such_module")
    assert plain.VALUE == 42


# The run reports what its kernel found, before and after using the parser.
PROBE = b.notebook(
    b.params("i = 0"),
    b.code(
        "import json, sys\n"
        "preloaded = 'slowgrammar' in sys.modules\n"
        "import lark, slowgrammar\n"
        "p = slowgrammar.parser\n"
        "built = 'parser' in vars(p)\n"
        "tree = str(p.parse('ab ba'))\n"
        "print(json.dumps({'preloaded': preloaded, 'built_before_use': built,\n"
        "    'built_after_use': 'parser' in vars(p), 'tree': tree, 'is_lark': isinstance(p, lark.Lark),\n"
        "    'real_lark': lark.Lark is sys.modules['lark.lark'].Lark, 'plain': type(p) is lark.Lark,\n"
        "    'hooks': [type(f).__name__ for f in sys.meta_path if 'mlops' in type(f).__module__]}))"
    ),
)


@pytest.mark.kernel
def test_forked_kernels_each_build_the_parsers_the_template_deferred(
    no_kernels_left: Path, runs_dir: Path, lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(lib))  # the template and the kernels find it too
    monkeypatch.setattr(forking, "DEFERRED_GRAMMARS", ("slowgrammar",))
    nb = b.write(no_kernels_left / "probe.ipynb", *PROBE["cells"])
    result = sweep(nb, {"i": [1, 2, 3]}, workers=2, preload="slowgrammar", runs_dir=runs_dir)
    assert result.ok, result.entries
    for run in result.runs:
        out = json.loads(run.output_notebook.read_text())
        seen = json.loads("".join(out["cells"][-1]["outputs"][0]["text"]))
        assert seen == {
            "preloaded": True,
            # every run starts with the parser unbuilt, even after another run built its own
            "built_before_use": False,
            "built_after_use": True,
            "tree": str(reference().parse("ab ba")),
            "is_lark": True,
            "real_lark": True,
            "plain": True,
            "hooks": [],
        }
