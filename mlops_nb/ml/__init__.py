"""ML helpers used inside the template notebooks (needs ``pip install 'mlops-nb[ml]'``).

Depends on numpy, pandas, scikit-learn and scipy only (seaborn/matplotlib inside ``plots``), and
on nothing else of mlops-nb, so the logic is testable without notebooks:

* ``datasets``: bundled data (``builtin:rare_events``, ``builtin:rare_events_drifted``,
  scikit-learn's breast_cancer / wine / iris / diabetes) or CSV/parquet files;
* ``schema``: infer, save, load and validate a data schema;
* ``split``: stratified train / validation / test splits;
* ``metrics``: metrics that report 0/0 as undefined, trivial baselines, threshold choice;
* ``analysis``: per-sample loss, errors sorted by loss, error rates per slice and tag;
* ``drift``: per-feature KS / chi-square tests and PSI, missing/malformed rates, prediction drift;
* ``rare_events``: simulated magnet signals, window-shift augmentation, case-control sampling;
* ``shadow``: champion vs challenger on the same rows (agreement, metric deltas with bootstrap
  CIs, disagreements), scoring latency and memory;
* ``rollout``: canary routing by a stable hash and the cumulative two-proportion decision;
* ``models``: a scikit-learn Pipeline (preprocessing + classifier) factory;
* ``plots``: the templates' figures.
"""

from __future__ import annotations

from mlops_nb.ml import (
    analysis,
    datasets,
    drift,
    metrics,
    models,
    plots,
    rare_events,
    rollout,
    schema,
    shadow,
    split,
)
from mlops_nb.ml.analysis import (
    default_slices,
    errors_by_loss,
    per_sample_loss,
    slice_table,
    tag_table,
)
from mlops_nb.ml.datasets import builtin_names, default_target, load_dataset
from mlops_nb.ml.drift import DriftReport, DriftThresholds, drift_report, feature_drift, psi
from mlops_nb.ml.metrics import (
    Metrics,
    baselines,
    choose_threshold,
    classification_metrics,
    comparison_table,
    precision_recall_table,
    predict_at,
)
from mlops_nb.ml.models import (
    binarize,
    feature_columns,
    fit,
    load_model,
    make_model,
    model_features,
    save_model,
    scores,
    train_default,
)
from mlops_nb.ml.rare_events import case_control_sample, issue_tags, shift_windows
from mlops_nb.ml.schema import (
    Schema,
    coerce,
    infer_schema,
    missing_values,
    validate,
    violations_frame,
)
from mlops_nb.ml.split import Split, stratified_split

__all__ = [
    "DriftReport",
    "DriftThresholds",
    "Metrics",
    "Schema",
    "Split",
    "analysis",
    "baselines",
    "binarize",
    "builtin_names",
    "case_control_sample",
    "choose_threshold",
    "classification_metrics",
    "coerce",
    "comparison_table",
    "datasets",
    "default_slices",
    "default_target",
    "drift",
    "drift_report",
    "errors_by_loss",
    "feature_columns",
    "feature_drift",
    "fit",
    "infer_schema",
    "issue_tags",
    "load_dataset",
    "load_model",
    "make_model",
    "metrics",
    "missing_values",
    "model_features",
    "models",
    "per_sample_loss",
    "plots",
    "precision_recall_table",
    "predict_at",
    "psi",
    "rare_events",
    "rollout",
    "save_model",
    "schema",
    "scores",
    "shadow",
    "shift_windows",
    "slice_table",
    "split",
    "stratified_split",
    "tag_table",
    "train_default",
    "validate",
    "violations_frame",
]
