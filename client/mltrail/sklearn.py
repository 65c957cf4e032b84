"""``mltrail.sklearn.autolog()``: log every scikit-learn ``fit`` (see `mltrail._autolog`)."""

from __future__ import annotations

from mltrail._autolog import sklearn_autolog as autolog
from mltrail._autolog import training_metrics

__all__ = ["autolog", "training_metrics"]
