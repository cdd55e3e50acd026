"""The registry's errors name its Python keywords from Python and its flags in the CLI, as the
filters do (``store.naming``; review4 item 14's kind)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_nb.errors import StoreError
from mlops_nb.main import main
from mlops_nb.registry import api


@pytest.mark.parametrize(
    ("aliases", "artifact", "python", "cli"),
    [
        (
            ["live"],
            "../m.joblib",
            "artifact='../m.joblib': name a file",
            "--artifact '../m.joblib'",
        ),
        ([], "model.joblib", "give at least one alias (e.g. aliases=['champion'])", None),
    ],
    ids=["artifact", "alias"],
)
def test_promote_names_keywords_in_python_and_flags_in_the_cli(
    tmp_path: Path,
    aliases: list[str],
    artifact: str,
    python: str,
    cli: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    with pytest.raises(StoreError) as e:
        api.promote(runs, "m", "some-run", aliases, artifact=artifact)
    assert e.value.message.startswith(python) and "--" not in e.value.message
    if cli is not None:  # (argparse itself requires --alias)
        argv = ["promote", "m", "some-run", "--alias", "live", "--artifact", artifact]
        assert main([*argv, "--runs-dir", str(runs)]) == 2
        assert f"error: {cli}: name a file inside the run folder" in capsys.readouterr().err
    assert not (runs / "registry").exists()
