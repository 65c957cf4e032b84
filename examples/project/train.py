"""Train a logistic regression on the iris data set (shipped with scikit-learn) and log it.

Run through `mltrail run examples/project -P C=0.5`: the launcher has created the run and
set MLTRAIL_RUN_ID, so `mltrail.start_run()` below attaches to it rather than starting a new one.
"""

import argparse

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

import mltrail


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--test-size", type=float, default=0.25)
    args = parser.parse_args()

    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=args.test_size, random_state=0, stratify=labels
    )
    with mltrail.start_run() as run:
        model = LogisticRegression(C=args.C, max_iter=args.max_iter)
        model.fit(x_train, y_train)
        run.log_metric("accuracy", accuracy_score(y_test, model.predict(x_test)))
        run.log_metric("log_loss", log_loss(y_test, model.predict_proba(x_test)))
        run.set_tag("model", "LogisticRegression")
        print(f"run {run.id}: accuracy {accuracy_score(y_test, model.predict(x_test)):.3f}")


if __name__ == "__main__":
    main()
