"""The model registry: registered models, their versions, aliases, pending promotions, history.

list         one line per model: versions, aliases, pending promotions
show MODEL   a model's versions (run, artifact sha256), aliases and full history

Models are registered and moved with `mlops-nb promote`, `approve`, `reject` and `rollback`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlops_nb.commands._common import add_runs_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="registered models and their aliases")
    show = sub.add_parser("show", help="one model's versions, aliases and history")
    show.add_argument("model", metavar="MODEL")
    for p in (lst, show):
        add_runs_dir(p)
        p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output
    from mlops_nb.registry import api
    from mlops_nb.store.hints import command
    from mlops_nb.store.runs import resolve_runs_dir

    runs_dir = resolve_runs_dir(args.runs_dir)
    if args.action == "list":
        docs = api.all_models(runs_dir)
        if args.json:
            output.print_json([_summary(d) for d in docs])
        elif not docs:
            promote = command("promote", "MODEL", "RUN", "--alias", "ALIAS", runs_dir=runs_dir)
            output.out(f"no registered models (register one with `{promote}`)")
        else:
            rows = [[str(v) for v in _summary(d).values()] for d in docs]
            output.out(output.table(rows, ["model", "versions", "aliases", "pending"]))
        return 0
    doc = api.load(runs_dir, args.model)
    if args.json:
        output.print_json(doc)
        return 0
    for line in _show_lines(doc, runs_dir):
        output.out(line)
    return 0


def _aliases(doc: dict[str, Any]) -> str:
    return ", ".join(f"{a}=v{n}" for a, n in sorted(doc["aliases"].items())) or "-"


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    from mlops_nb.registry.pending import listing

    pending = listing(doc["pending"])
    return {
        "model": doc["name"],
        "versions": len(doc["versions"]),
        "aliases": _aliases(doc),
        "pending": pending or "-",
    }


def _show_lines(doc: dict[str, Any], runs_dir: Path) -> list[str]:
    from mlops_nb.store.hints import command

    by_version: dict[int, list[str]] = {}
    for a, n in sorted(doc["aliases"].items()):
        by_version.setdefault(int(n), []).append(a)
    lines = [f"model {doc['name']}", "versions:"]
    for v in doc["versions"]:
        tags = f"  [{', '.join(by_version[v['version']])}]" if v["version"] in by_version else ""
        lines.append(
            f"  v{v['version']}  run {v['run_id']}  {v['artifact']}  "
            f"sha256:{v['sha256'][:12]}  {v['registered_at']}{tags}"
        )
    several = len({a for p in doc["pending"] for a in p["aliases"]}) > 1
    for p in doc["pending"]:
        for alias in p["aliases"]:
            which = ("--alias", alias) if several else ()
            approve, reject = (
                command(a, doc["name"], *which, runs_dir=runs_dir) for a in ("approve", "reject")
            )
            lines.append(
                f"pending: v{p['version']} -> {alias}  requested by "
                f"{p['requested_by']} at {p['requested_at']} (request {p['seq']})"
                + (f"  ({p['reason']})" if p.get("reason") else "")
                + f"  -> `{approve}` or `{reject}`"
            )
    lines.append("history:")
    for e in doc["history"]:
        moves = ", ".join(
            f"{a} {'v' + str(e['from'][a]) if e['from'].get(a) else 'none'} -> v{e['to']}"
            for a in e["aliases"]
        )
        what = moves or f"v{e['to']}"
        why = f"  ({e['reason']})" if e.get("reason") else ""
        lines.append(f"  {e['seq']:>3}  {e['at']}  {e['by']}  {e['action']}  {what}{why}")
    return lines
