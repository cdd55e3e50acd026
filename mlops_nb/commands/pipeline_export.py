"""``pipeline export`` and ``pipeline select`` (the fan-in that exported grid steps call).

export  --format dvc|kfp|argo [-o FILE] [--image IMAGE] [FILE]: dvc writes dvc.yaml and
        params.yaml (default: beside the pipeline file); kfp and argo print the YAML, or write
        it to -o FILE.
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_IMAGE = "mlops-nb:latest"


def add_parsers(sub: Any) -> None:
    e = sub.add_parser(
        "export",
        help="the pipeline for DVC, Kubeflow Pipelines or Argo Workflows",
        description="Export the pipeline: every step runs `mlops-nb run` with stable output "
        "folders (outputs/<step>) and metrics files (metrics/<step>.json). A pipeline with "
        "gate steps is refused: gates run only under `mlops-nb pipeline run`.",
    )
    e.add_argument("file", nargs="?", metavar="FILE", help="pipeline file")
    e.add_argument("--format", required=True, choices=("dvc", "kfp", "argo"))
    e.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write (dvc: the dvc.yaml, default beside the pipeline file; "
        "kfp/argo: default standard output, also '-')",
    )
    e.add_argument(
        "--image",
        metavar="IMAGE",
        help=f"container image with the project and mlops-nb (kfp/argo; default {DEFAULT_IMAGE}; "
        "build one from `mlops-nb env export RUN --format dockerfile`)",
    )
    e.add_argument(
        "--resources",
        action="append",
        metavar="STEP:KEY=VALUE[,...]",
        help="kfp/argo: a step's container resources, keys cpu, cpu_request, memory, "
        "memory_request, gpu, accelerator (e.g. train:cpu=2,memory=4G; repeatable)",
    )
    s = sub.add_parser("select", help="(used by exported pipelines) fan-in of a grid step")
    s.add_argument("--metric", required=True)
    s.add_argument("--mode", choices=("max", "min"), default="max")
    s.add_argument("--output-dir", required=True, metavar="DIR")
    s.add_argument("--metrics-file", required=True, metavar="F.json")
    s.add_argument(
        "--candidate", nargs=2, action="append", required=True, metavar=("DIR", "METRICS")
    )


def run(args: argparse.Namespace) -> int:
    from mlops_nb import output

    if args.action == "select":
        from mlops_nb.pipeline.export.select import select

        chosen = select(
            metric=args.metric,
            mode=args.mode,
            candidates=[(d, m) for d, m in args.candidate],
            output_dir=args.output_dir,
            metrics_file=args.metrics_file,
        )
        output.out(f"selected {chosen} -> {args.output_dir}")
        return 0
    return _export(args, output)


def _export(args: argparse.Namespace, output: Any) -> int:
    from pathlib import Path

    from mlops_nb.commands._pipeline_file import load_pipeline
    from mlops_nb.notebook.io import atomic_write_text, write_user_file, writing
    from mlops_nb.pipeline.export import export

    pipeline = load_pipeline(args.file)
    if args.output == "-":
        _one_file(args.format, "-")
        args.output = None  # kfp/argo print by default
    if args.output:
        target = Path(args.output)
    elif args.format == "dvc":
        target = pipeline.root / "dvc.yaml"
    else:
        target = Path(f"{pipeline.name}.{args.format}.yaml")
    image = args.image or DEFAULT_IMAGE
    from mlops_nb.pipeline.export.common import parse_resources

    resources = parse_resources(args.resources, pipeline.steps)
    files = export(pipeline, args.format, target=target, image=image, resources=resources)
    if args.format != "dvc" and not args.output:
        output.out(files[target.name].rstrip("\n"))
        return 0
    if target.exists() and not target.is_file():
        _one_file(args.format, target)
    with writing(target):
        for name, text in files.items():
            if name == target.name:
                write_user_file(target, text)
            else:
                atomic_write_text(target.parent / name, text)
            output.notice(f"wrote {target.parent / name}")
    return 0


def _one_file(fmt: str, target: object) -> None:
    """dvc writes dvc.yaml and params.yaml side by side: a stream or device cannot hold both."""
    if fmt == "dvc":
        from mlops_nb.errors import UsageError

        raise UsageError(
            f"-o {target}: dvc writes dvc.yaml and params.yaml side by side; give a file in a "
            "folder (e.g. -o dvc.yaml)."
        )
