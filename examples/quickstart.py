"""mltrail quickstart: from a training run to the version serving production, and back.

Trains a scikit-learn model on synthetic churn data, logs it with an input example (the
signature is inferred from it), registers it, moves it to Staging then Production with a
comment each time, loads it back by its ``models:/`` URI (no training code needed) and
predicts. Run a server first (``make run``), then:

    .venv/bin/python examples/quickstart.py            # or MLTRAIL_TRACKING_URI=http://host:5000

Needs the ``models`` extra (``pip install 'mltrail[models]'``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mltrail
from mltrail.models import load_model

MODEL_NAME = "quickstart-churn"


def churn_data(n: int = 2_000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic customers: short tenure and high monthly charges make churn likely."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, n).astype("int64"),
            "monthly_charges": rng.normal(70, 20, n).round(2),
            "support_calls": rng.poisson(1.5, n).astype("int64"),
        }
    )
    risk = -0.06 * X["tenure_months"] + 0.04 * X["monthly_charges"] + 0.5 * X["support_calls"] - 1.5
    y = pd.Series(rng.random(n) < 1 / (1 + np.exp(-risk)), name="churned").astype(int)
    return X, y


def main() -> None:
    X, y = churn_data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

    mltrail.set_experiment("quickstart")
    with mltrail.start_run(name="rf-quickstart") as run:
        params = {"n_estimators": 100, "max_depth": 6, "random_state": 0}
        run.log_params(params)
        model = RandomForestClassifier(**params).fit(X_train, y_train)
        run.log_metric("test_accuracy", float(model.score(X_test, y_test)))
        run.log_model(model, "model", input_example=X_train.head(5))

    client = mltrail.get_client()
    version = mltrail.register_model(f"runs:/{run.id}/model", MODEL_NAME)
    print(f"registered {MODEL_NAME} version {version.version} from run {run.id}")
    client.transition_model_version_stage(MODEL_NAME, version.version, "Staging", comment="offline eval passed")
    client.transition_model_version_stage(
        MODEL_NAME, version.version, "Production", comment="promoted after review", archive_existing=True
    )

    loaded = load_model(f"models:/{MODEL_NAME}/Production")
    predictions = loaded.predict(X_test.head(10))
    print(f"models:/{MODEL_NAME}/Production -> version {version.version}; predictions: {[int(p) for p in predictions]}")
    for change in client.get_model_history(MODEL_NAME, version.version):
        print(f"  {change.kind:<15} {change.from_stage or '':<8} -> {change.to_stage or '':<10} "
              f"by {change.user}: {change.comment or ''}")  # fmt: skip


if __name__ == "__main__":
    main()
