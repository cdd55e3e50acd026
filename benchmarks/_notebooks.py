"""Shared by the benchmarks: a trivial and a realistic notebook (same code as scripts), timing."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    """Median wall-clock seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


TRIVIAL = [
    ("parameters", "x = 1"),
    ("", "import scrapbook as sb\ny = x * 2\nsb.glue('y', y)"),
]

REALISTIC = [
    ("parameters", "C = 1.0\nseed = 0"),
    (
        "",
        "import pandas as pd\nimport scrapbook as sb\n"
        "from sklearn.datasets import load_breast_cancer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import accuracy_score, f1_score, roc_auc_score\n"
        "from sklearn.model_selection import train_test_split\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler",
    ),
    (
        "",
        "data = load_breast_cancer(as_frame=True)\ndf = data.frame\n"
        "X, y = df.drop(columns='target'), df['target']\n"
        "X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)",
    ),
    (
        "",
        "model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))\n"
        "model.fit(X_tr, y_tr)\npred = model.predict(X_te)",
    ),
    (
        "",
        "sb.glue('accuracy', float(accuracy_score(y_te, pred)))\n"
        "sb.glue('f1', float(f1_score(y_te, pred)))\n"
        "sb.glue('roc_auc', float(roc_auc_score(y_te, model.predict_proba(X_te)[:, 1])))",
    ),
]


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"c{i}",
                "metadata": {"tags": [tag]} if tag else {},
                "outputs": [],
                "source": src,
            }
            for i, (tag, src) in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1) + "\n")
    return path


def write_script(path: Path, cells: list[tuple[str, str]]) -> Path:
    """The same code as a plain script (scrapbook's glue replaced by print)."""
    code = "\n".join(src for _, src in cells)
    code = code.replace("import scrapbook as sb\n", "").replace("sb.glue(", "print(")
    path.write_text(code + "\n")
    return path
