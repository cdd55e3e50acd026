"""What a run reference means, as pure rules on run ids: the lookup by index
(``store.lookup``) and by folders (``store.runs.resolve_run``) both apply them.

A reference names one run or none: a name several runs share is refused with their ids, as an id
prefix of several runs is, never read as "the newest" (MLflow gives runs unique names; a silent
pick let ``diff baseline latest`` compare a rerun with itself).

A name is matched exactly, as recorded (``a b`` is not the run named ``a/b``, although both ids
end in ``a-b``), and a name wins over an id prefix: a reference that is some run's whole name
means that run, so names made of digits or hex letters (``2026``, ``0``, ``cafe``, a step ``eda``)
stay reachable as the store grows; any other reference is a prefix of the whole id or of its
random part.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from mlops_nb.errors import StoreError, UsageError
from mlops_nb.store.hints import command

LATEST = ("latest", "last", "-1")  # the reference keywords: the newest run
SHOWN = 10  # candidates listed when a reference matches several runs
NAME_AT = 9  # a run id's name starts this far after its "Z" (then "-", 6 hex digits, "-")
RECORD = "run.json"  # store.runs.RECORD (runs imports this module)


def check_ref(ref: str) -> None:
    """Raise ``UsageError`` when ``ref`` is empty (or blank): it would match every run."""
    if not ref.strip():
        raise UsageError(
            f"the run reference {ref!r} is an empty value; give a run id, a unique prefix of "
            "one, a run name or 'latest'."
        )


def name_of(run_id: str) -> str:
    """The name part of a run id (``''`` when the run has none): the slug of its name."""
    return run_id.partition("Z-")[2][NAME_AT - 2 :]


def is_prefix(run_id: str, ref: str) -> bool:
    """Whether ``ref`` is a prefix of ``run_id``, whole or of its random part."""
    return run_id.startswith(ref) or run_id.partition("Z-")[2].startswith(ref)


def matching(runs_dir: Path, ref: str, slug: str, ids: Sequence[str]) -> list[str]:
    """The ids of ``ids`` (run folders of ``runs_dir``, ascending) that ``ref`` means: the runs
    named ``ref`` exactly, or when there are none, those it is an id prefix of. ``slug`` is
    ``store.runs.slug(ref)``, what the id holds of the name: only runs whose id ends in it are
    read."""
    named = [i for i in ids if name_of(i) == slug and _recorded_name(runs_dir / i) == ref]
    return named or [i for i in ids if is_prefix(i, ref)]


def _recorded_name(folder: Path) -> object:
    try:
        with open(folder / RECORD, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record.get("name") if isinstance(record, dict) else None


def pick(runs_dir: Path, ref: str, ids: Sequence[str], count: int | None = None) -> str:
    """The one id of ``ids`` (the runs ``ref`` matches, ascending; ``count``: how many there
    are when ``ids`` holds only the newest of them). Raises ``StoreError``: none, or several
    (one line, then the newest ``SHOWN`` ids, then how to list the rest)."""
    n = len(ids) if count is None else count
    if n == 1:
        return ids[0]
    if not n:
        listing = f"List runs with `{command('collect', runs_dir=runs_dir)}`."
        if "/" in ref or "\\" in ref:  # read as a path first, then as a name
            raise StoreError(
                f"{ref}: not a run folder, nor the name of a run in {runs_dir}. {listing}"
            )
        raise StoreError(f"no run {ref!r} in {runs_dir}. {listing}")
    newest = list(ids)[::-1][:SHOWN]
    lines = [
        f"{ref!r} matches {n} runs (by name or id prefix); give one by its id or a unique "
        f"prefix of it (e.g. {newest[0].partition('Z-')[2][:6]}):",
        *(f"  {run_id}" for run_id in newest),
    ]
    if n > len(newest):
        more = command("collect", "--columns", "id", "name", "status", runs_dir=runs_dir)
        lines.append(f"  and {n - len(newest)} more (list them: {more})")
    raise StoreError("\n".join(lines))
