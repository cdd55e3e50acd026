"""What every export format shares, checked without any format's package: resources, the
report command, ancestors, the fan-in's reading of candidate metrics, and fingerprints' DVC
notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_nb.errors import UsageError
from mlops_nb.pipeline import fingerprint as fp
from mlops_nb.pipeline.export import common
from mlops_nb.pipeline.export.select import select
from mlops_nb.pipeline.spec import Pipeline, Step

STEPS = {
    "a": Step("a", Path("a.ipynb")),
    "b": Step("b", Path("b.ipynb"), upstream=("a",)),
    "r": Step("r", None, upstream=("b",), report={"title": "T", "sort": "f1"}),
    "c": Step("c", Path("c.ipynb"), upstream=("r", "b")),
}
PIPE = Pipeline(Path("p.yaml"), "p", STEPS)


def test_resources_parse_and_bad_items_name_the_fix() -> None:
    got = common.parse_resources(["a:cpu=2,memory=4G", "b:gpu=1"], STEPS)
    assert got == {"a": {"cpu": "2", "memory": "4G"}, "b": {"gpu": "1"}}
    assert common.parse_resources(None, STEPS) == {}
    with pytest.raises(UsageError, match="with STEP one of a, b, r, c"):
        common.parse_resources(["z:cpu=1"], STEPS)
    with pytest.raises(UsageError, match="'cpus=1' is not KEY=VALUE with KEY one of cpu,"):
        common.parse_resources(["a:cpus=1"], STEPS)


def test_the_report_command_and_what_a_step_receives() -> None:
    args = common.report_args(PIPE, STEPS["r"], runs_dir="runs")
    assert args == [
        "mlops-nb", "report", "-o", "outputs/r.html", "--title", "T", "--sort", "f1",
        "--runs-dir", "runs",
    ]  # fmt: skip
    assert common.notebook_upstream(PIPE, STEPS["c"]) == ["b"]  # a report hands no folder on
    assert common.ancestors(PIPE, STEPS["c"]) == ["a", "b"]
    assert common.report_file("r") == "outputs/r.html"
    assert common.item_name({"model": "log reg", "C": 0.5}) == "log_reg-0.5"


def test_the_fan_in_refuses_unreadable_candidates(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"f1": 0.5}))
    bad.write_text("{not json")
    out = {"output_dir": str(tmp_path / "out"), "metrics_file": str(tmp_path / "m.json")}
    with pytest.raises(UsageError, match="--mode 'up': use max or min"):
        select(metric="f1", mode="up", candidates=[(str(tmp_path), str(good))], **out)
    missing = [(str(tmp_path), str(tmp_path / "missing.json"))]
    with pytest.raises(UsageError, match=r"metrics file .*missing\.json not found"):
        select(metric="f1", mode="max", candidates=missing, **out)
    with pytest.raises(UsageError, match=r"cannot read metrics file .*bad\.json"):
        select(metric="f1", mode="max", candidates=[(str(tmp_path), str(bad))], **out)


@pytest.mark.parametrize(
    ("old", "new", "note"),
    [
        (None, None, ""),
        ("aaaaaaaa1", None, " (no longer tracked by DVC)"),
        ("aaaaaaaa1", "aaaaaaaa1", " (DVC md5 still aaaaaaaa: run `dvc add` or `dvc commit`"),
        (None, "bbbbbbbb2", " (now tracked by DVC, md5 bbbbbbbb)"),
        ("aaaaaaaa1", "bbbbbbbb2", " (DVC md5 aaaaaaaa -> bbbbbbbb)"),
    ],
    ids=["plain", "untracked", "not-committed", "tracked", "moved"],
)
def test_a_changed_input_says_what_dvc_knows(old: str | None, new: str | None, note: str) -> None:
    def parts(sha: str, md5: str | None) -> fp.Parts:
        return fp.Parts([], {}, {}, {"raw.csv": sha}, {}, {}, {"raw.csv": md5} if md5 else {})

    (why,) = fp.reasons(parts("1", old), parts("2", new))
    assert why.startswith(f"input file raw.csv changed{note}")


def test_module_imports_of_a_file_that_does_not_parse() -> None:
    assert fp.module_imports("import os\ndef f(:\n") == set()
    assert fp.module_imports(
        "try:\n    import a.b\nexcept ImportError:\n    from c import d\n"
    ) == {
        "a.b",
        "c",
        "c.d",
    }
