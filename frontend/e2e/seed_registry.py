"""Seed the registry for the browser tests (e2e/registry.mjs) through the real client.

Trains two small scikit-learn models on synthetic churn data, logs each with an input example
(so MLmodel carries a signature) and a dataset input, registers both as versions 1 and 2 of
``e2e-churn`` (Production protected, so promoting needs another user's approval), moves
version 1 to Staging then Production as ``ana`` and sets ``@champion`` on it. Prints the ids
the browser test needs as one JSON line.

    MLTRAIL_TRACKING_URI=http://127.0.0.1:PORT python e2e/seed_registry.py
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import mltrail

MODEL = "e2e-churn"


def churn_data(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 72, n).astype("int64"),
            "monthly_charges": rng.normal(70, 20, n).round(2),
        }
    )
    risk = -0.06 * X["tenure_months"] + 0.04 * X["monthly_charges"] - 1.0
    y = pd.Series(rng.random(n) < 1 / (1 + np.exp(-risk)), name="churned").astype(int)
    return X, y


def main() -> None:
    X, y = churn_data()
    client = mltrail.MltrailClient(user="ana")
    client.create_registered_model(
        MODEL,
        description="# Churn\n\nPredicts churn from tenure and monthly charges.\n\n- owner: risk team",
        tags={"team": "risk"},
        protected_stages=["Production"],
    )
    experiment = client.create_experiment("e2e-registry")
    run_ids = []
    for i, c in enumerate((0.5, 2.0)):
        run = client.start_run(experiment_id=experiment.id, run_name=f"logreg-C{c}", log_system_metrics=False)
        run.log_params({"C": c, "solver": "lbfgs"})
        model = LogisticRegression(C=c, solver="lbfgs").fit(X, y)
        run.log_metric("accuracy", float(model.score(X, y)))
        run.log_input({"name": "churn-train", "digest": f"d1g35t{i}", "source": "synthetic"}, context="training")
        run.log_model(model, "model", input_example=X.head(3))
        run.end()  # flushes: the params and metrics are stored before the lineage is read
        run_ids.append(run.id)
    for run_id in run_ids:
        client.register_model(f"runs:/{run_id}/model", MODEL)
    client.transition_model_version_stage(MODEL, 1, "Staging", comment="offline eval passed")
    # Production is protected: ana asks, bo approves (a model lead would).
    request = client.request_transition(MODEL, 1, stage="Production", comment="first release")
    mltrail.MltrailClient(user="bo").approve_transition(request.id, comment="ok")
    client.set_registered_model_alias(MODEL, "champion", 1, comment="first champion")
    print(json.dumps({"model": MODEL, "runIds": run_ids, "experimentId": experiment.id}))


if __name__ == "__main__":
    main()
