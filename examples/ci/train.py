"""CI training step: train, evaluate on held-out data, log the model and the metric, and write
the run id where the next step (the promotion gate) reads it.

    MLTRAIL_TRACKING_URI=https://mltrail.example.com python examples/ci/train.py --out run_id.txt
    mltrail models promote Churn --run "$(cat run_id.txt)" --metric acc --mode max \\
        --min-delta 0.005 --stage Production --comment "CI $GIT_SHA"
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

import mltrail


def churn_data(n: int = 2_000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, n).astype("int64"),
            "monthly_charges": rng.normal(70, 20, n).round(2),
            "support_calls": rng.poisson(1.5, n).astype("int64"),
        }
    )
    risk = -0.06 * X["tenure_months"] + 0.04 * X["monthly_charges"] + 0.5 * X["support_calls"] - 1.5
    return X, pd.Series(rng.random(n) < 1 / (1 + np.exp(-risk)), name="churned").astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", default="churn-ci")
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("run_id.txt"))
    args = parser.parse_args()

    X, y = churn_data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    mltrail.set_experiment(args.experiment)
    with mltrail.start_run(name=f"rf-{args.n_estimators}") as run:
        run.log_params({"n_estimators": args.n_estimators, "max_depth": 6})
        model = RandomForestClassifier(n_estimators=args.n_estimators, max_depth=6, random_state=0)
        model.fit(X_train, y_train)
        run.log_metric("acc", accuracy_score(y_test, model.predict(X_test)))
        run.log_metric("roc_auc", roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
        run.log_model(model, "model", input_example=X_train.head(5))
    args.out.write_text(run.id)
    print(f"run {run.id}")


if __name__ == "__main__":
    main()
