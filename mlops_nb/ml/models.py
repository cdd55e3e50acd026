"""A small model factory: one scikit-learn Pipeline holding preprocessing and classifier.

Preprocessing (imputing, scaling, one-hot encoding) is part of the Pipeline, so it is fitted on the
training split only and saved, and reproduced in production, together with the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from mlops_nb.ml.split import Split, stratified_split

ModelName = Literal["logreg", "random_forest", "gradient_boosting"]
MODEL_NAMES: tuple[str, ...] = ("logreg", "random_forest", "gradient_boosting")


def feature_columns(
    df: pd.DataFrame, target: str, *, exclude: Sequence[str] = (), max_categories: int = 20
) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns: everything but the target, ``exclude`` and free
    text such as identifiers (text columns with more than ``max_categories`` values)."""
    numeric: list[str] = []
    categorical: list[str] = []
    for name in df.columns:
        if name == target or name in exclude:
            continue
        s = df[name]
        if pd.api.types.is_bool_dtype(s):
            categorical.append(str(name))
        elif pd.api.types.is_numeric_dtype(s):
            numeric.append(str(name))
        elif s.nunique() <= max_categories:
            categorical.append(str(name))
    return numeric, categorical


def make_model(
    name: str,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    seed: int = 0,
    **params: Any,
) -> Any:
    """An unfitted Pipeline ``preprocess`` → ``classifier``; ``params`` go to the classifier.

    ``name``: ``logreg`` (logistic regression), ``random_forest`` (100 trees) or
    ``gradient_boosting`` (100 shallow trees). Missing numbers are imputed with the median,
    then scaled; categories are one-hot encoded and unseen ones ignored.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    factories: dict[str, Any] = {
        "logreg": lambda: LogisticRegression(max_iter=2000, **params),
        "random_forest": lambda: RandomForestClassifier(
            **{
                "n_estimators": 100,
                "min_samples_leaf": 2,
                "n_jobs": 1,
                "random_state": seed,
                **params,
            }
        ),
        "gradient_boosting": lambda: GradientBoostingClassifier(
            **{"n_estimators": 100, "max_depth": 3, "random_state": seed, **params}
        ),
    }
    if name not in factories:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}")
    preprocess = ColumnTransformer(
        [
            (
                "numeric",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                list(numeric),
            ),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="<NA>")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                list(categorical),
            ),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", factories[name]())])


def fit(model: Any, X: pd.DataFrame, y: Any, *, class_weight: str = "balanced") -> Any:
    """Fit the Pipeline; ``class_weight="balanced"`` weights each class inversely to its frequency
    (as sample weights, so it works for every model), ``"none"`` leaves rare classes rare."""
    if class_weight not in ("balanced", "none"):
        raise ValueError(f"class_weight must be 'balanced' or 'none', got {class_weight!r}")
    if class_weight == "balanced":
        from sklearn.utils.class_weight import compute_sample_weight

        return model.fit(X, y, classifier__sample_weight=compute_sample_weight("balanced", y))
    return model.fit(X, y)


def scores(model: Any, X: pd.DataFrame, *, positive: Any = 1) -> np.ndarray:
    """P(positive) for each row of ``X``."""
    classes = list(model.classes_)
    if positive not in classes:
        raise ValueError(f"positive label {positive!r} not among the model's classes {classes}")
    return np.asarray(model.predict_proba(X)[:, classes.index(positive)], dtype=float)


class Trained(NamedTuple):
    """A fitted Pipeline, the split it came from, its feature columns and decision threshold."""

    model: Any
    split: Split
    features: list[str]
    threshold: float


def binarize(df: pd.DataFrame, target: str, *, positive: Any = 1) -> pd.DataFrame:
    """A copy of ``df`` whose ``target`` is 1 for ``positive`` and 0 for every other label."""
    if target not in df.columns:
        raise KeyError(
            f"target column {target!r} not found; columns: {', '.join(map(str, df.columns))}"
        )
    return df.assign(**{target: (df[target] == positive).astype(int)})


def train_default(
    df: pd.DataFrame,
    target: str,
    *,
    positive: Any = 1,
    model: str = "logreg",
    class_weight: str = "balanced",
    seed: int = 0,
) -> Trained:
    """What the ``train`` template does, for notebooks that run without an upstream model.

    Binarizes ``target`` (``positive`` vs the rest), splits stratified 75/15/10, fits ``model`` on
    the training part and picks the best-F1 threshold on the validation part.
    """
    from mlops_nb.ml.metrics import choose_threshold

    data = binarize(df, target, positive=positive)
    split = stratified_split(data, target, seed=seed)
    numeric, categorical = feature_columns(data, target)
    pipe = make_model(model, numeric=numeric, categorical=categorical, seed=seed)
    features = numeric + categorical
    fit(pipe, split.train[features], split.train[target], class_weight=class_weight)
    val = split.validation
    chosen = choose_threshold(val[target], scores(pipe, val[features]))
    return Trained(pipe, split, features, chosen.threshold)


def save_model(model: Any, path: str | Path) -> Path:
    """Save the whole Pipeline with joblib."""
    import joblib  # type: ignore[import-untyped]

    p = Path(path)
    joblib.dump(model, p)
    return p


def load_model(path: str | Path) -> Any:
    """Load a Pipeline saved by ``save_model``."""
    import joblib

    return joblib.load(Path(path))


def model_features(model: Any) -> list[str]:
    """The input columns a fitted Pipeline expects."""
    return [str(c) for c in model.feature_names_in_]
