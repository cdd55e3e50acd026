from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import ConfigError
from mlops_nb.notebook.params import parse_notebook_params
from mlops_nb.notebook.values import collect_values, papermill_parse
from tests import nbbuild as b

PARAMS = parse_notebook_params(
    b.notebook(
        b.params(
            "n: int = 1\nrate: float = 0.1\nname: str = 'a'\nflag: bool = False\n"
            "layers: list = [8]\nopts: dict = {}\nmode: Literal['a', '1'] = 'a'\nany_ = None"
        )
    )
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("True", True), ("False", False), ("None", None), ("12", 12), ("1e3", 1000.0), ("x", "x")],
)
def test_papermill_parsing(text: str, value: object) -> None:
    assert papermill_parse(text) == value


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("n", "3", 3),
        ("rate", "2", 2),
        ("name", "2024", "2024"),  # a str parameter keeps the text as given
        ("name", "None", "None"),
        ("flag", "true", True),
        ("layers", "[64, 32]", [64, 32]),
        ("opts", "{a: 1}", {"a": 1}),
        ("mode", "1", "1"),
        ("any_", "7", 7),
        ("unknown", "7", 7),
    ],
)
def test_p_flag_uses_declared_type(name: str, text: str, value: object) -> None:
    got = collect_values([("-p", name, text)], PARAMS)
    assert got == {name: value}
    assert type(got[name]) is type(value)


def test_flags_merge_in_order(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("n: 5\nname: from-file\n")
    got = collect_values(
        [("-p", "n", "1"), ("-f", str(f), None), ("-r", "name", "42"), ("-y", "rate: 0.5", None)],
        PARAMS,
    )
    assert got == {"n": 5, "name": "42", "rate": 0.5}


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("n: 1\nname: [unclosed\n")
    with pytest.raises(ConfigError, match=r"p\.yaml: invalid YAML at line \d+"):
        collect_values([("-f", str(f), None)], PARAMS)
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        collect_values([("-y", "[1, 2]", None)], PARAMS)
    with pytest.raises(ConfigError, match="no such file"):
        collect_values([("-f", str(tmp_path / "nope.yaml"), None)], PARAMS)
