"""The command line's shared arguments, parsed by the real ``mlops-nb`` parser (no kernel)."""

from __future__ import annotations

import pytest

from mlops_nb import __version__
from mlops_nb.commands._common import protect_dash_values
from mlops_nb.main import COMMANDS, build_parser, main


def _parse(*argv: str) -> object:
    return build_parser().parse_args(protect_dash_values(list(argv)))


@pytest.mark.parametrize(
    ("argv", "flags"),
    [
        (["-p", "lr", "-1e-3"], [("-p", "lr", "-1e-3")]),
        (["-p", "x", "-inf", "-r", "name", "-abc"], [("-p", "x", "-inf"), ("-r", "name", "-abc")]),
        (["--parameters", "n", "-5"], [("-p", "n", "-5")]),
        (
            ["-y", "a: 1", "-f", "p.yaml", "-p", "b", "2"],
            [("-y", "a: 1", None), ("-f", "p.yaml", None), ("-p", "b", "2")],
        ),
        (["--parameters_yaml", "c: -1"], [("-y", "c: -1", None)]),
    ],
    ids=["negative-float", "inf-and-raw", "long-flag", "order-kept", "yaml"],
)
def test_parameter_flags_keep_order_and_take_values_that_look_like_options(
    argv: list[str], flags: list[tuple[str, str, str | None]]
) -> None:
    args = _parse("run", "nb.ipynb", *argv)
    assert args.param_flags == flags  # type: ignore[attr-defined]


def test_a_dash_value_after_a_double_dash_is_left_alone() -> None:
    assert protect_dash_values(["run", "--", "-p", "a", "-1"]) == ["run", "--", "-p", "a", "-1"]
    # a -p missing its value is left for argparse to report
    assert protect_dash_values(["run", "nb", "-p", "a"]) == ["run", "nb", "-p", "a"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "not a number: 'abc'"),
        ("nan", "must be a finite number, got nan (leave the option out for no limit)"),
        ("inf", "must be a finite number, got inf"),
        ("0", "must be > 0, got 0"),
        ("-2.5", "must be > 0, got -2.5"),
    ],
)
def test_timeout_must_be_a_positive_finite_number(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        _parse("run", "nb.ipynb", "--timeout", value)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_timeout_accepts_fractions() -> None:
    assert _parse("run", "nb.ipynb", "--timeout", "0.5").timeout == 0.5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "message"),
    [("1.5", "not an integer: '1.5'"), ("0", "must be > 0, got 0"), ("-3", "must be > 0")],
)
def test_limit_must_be_a_positive_integer(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        _parse("collect", "--limit", value)
    assert e.value.code == 2
    assert message in capsys.readouterr().err
    assert _parse("collect", "--limit", "7").limit == 7  # type: ignore[attr-defined]


def test_help_lists_every_command_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: mlops-nb")
    for name in COMMANDS:
        assert name in text


def test_no_command_is_bad_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """As argparse does for a missing required argument (review5 item 14)."""
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "usage: mlops-nb [-h] [--version] COMMAND ...",
        "mlops-nb: error: the following arguments are required: COMMAND ('mlops-nb --help' "
        "lists the commands)",
    ]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"mlops-nb {__version__}\n"


def test_a_command_whose_module_is_not_there_yet_is_left_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlops_nb.main as main_module

    monkeypatch.setitem(
        main_module.COMMANDS, "future", ("mlops_nb.commands.not_written_yet", "coming soon")
    )
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "coming soon" not in text
    assert "show one run's record" in text  # the others are all there
    with pytest.raises(SystemExit) as e:
        main(["future"])
    assert e.value.code == 2
