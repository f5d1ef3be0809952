#!/usr/bin/env python3
"""Writes small XGBoost models from one XGBoost version, with their predictions, as test fixtures.

Run once per version (1.7, 2.x, 3.x) with that version installed:
    python make_version_fixtures.py --out Tests/PrescoreCoreTests/Fixtures/xgboost-versions
The versions store base_score differently ("5E-1" in 1.7, "[5E-1]" since 2.0; with boost_from_average
the intercept is estimated from the data) and write default_left in different forms; the Swift tests
load every file and compare with that version's own predictions.
"""
import argparse
import csv
import os

import numpy as np
import xgboost as xgb

FEATURES = ["f0", "f1", "f2", "f3", "f4", "f5"]


def data():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, len(FEATURES))) * [1, 10, 0.1, 100, 1, 3]
    X[rng.random(X.shape) < 0.1] = np.nan
    signal = np.nan_to_num(X[:, 0]) + 0.1 * np.nan_to_num(X[:, 1]) - 5 * np.nan_to_num(X[:, 2])
    return X, signal, rng


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    X, signal, rng = data()
    version = "".join(xgb.__version__.split(".")[:2])
    input_path = os.path.join(args.out, "input.csv")
    if not os.path.exists(input_path):
        with open(input_path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["key"] + FEATURES)
            for i, row in enumerate(X):
                w.writerow([i] + ["" if np.isnan(v) else repr(float(v)) for v in row])
    labels = {
        "binary:logistic": (signal + rng.normal(size=len(signal)) > 0.3).astype(float),
        "reg:logistic": 1 / (1 + np.exp(-signal)),
        "reg:squarederror": 3 * signal + 17,
    }
    for objective, y in labels.items():
        # The 1.7 binary model has no feature names: it must bind by position.
        names = None if (version == "17" and objective == "binary:logistic") else FEATURES
        train = xgb.DMatrix(X, label=y, feature_names=names, missing=np.nan)
        booster = xgb.train({"objective": objective, "max_depth": 4, "eta": 0.3, "seed": 3, "nthread": 1},
                            train, num_boost_round=12)
        stem = f"xgb{version}_{objective.replace(':', '_')}"
        booster.save_model(os.path.join(args.out, stem + ".json"))
        predictions = booster.inplace_predict(X, missing=np.nan)
        with open(os.path.join(args.out, stem + "_expected.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["key", "score"])
            for i, p in enumerate(predictions):
                w.writerow([i, np.format_float_positional(np.float32(p), unique=True)])
    print(f"xgboost {xgb.__version__}: wrote {len(labels)} models to {args.out}")


if __name__ == "__main__":
    main()
