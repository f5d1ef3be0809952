#!/usr/bin/env python3
"""Trains the demo fraud-risk model on demo.users and writes its parity fixture.

Run through `make model` (it seeds the data and provides the virtual environment). Outputs:
  jobs/models/fraud_risk.json                    the XGBoost JSON model (committed)
  <fixture>/fraud_risk_parity_input.csv          rows to score: key + 16 features, empty = missing
  <fixture>/fraud_risk_parity_expected.csv       key,score as XGBoost's own inplace_predict gives them

The fixture holds a few thousand rows with extra missing values and rows whose values sit exactly on,
or one float32 step beside, split thresholds: the cases where a float64 comparison or a wrong default
direction would change the score.
"""
import argparse
import csv
import os
import subprocess
import tempfile

import numpy as np
import xgboost as xgb

FEATURES = [
    "f_amount_avg_30d", "f_amount_max_30d", "f_txn_count_7d", "f_txn_count_30d", "f_account_age_days",
    "f_distinct_merchants_30d", "f_distinct_countries_30d", "f_night_txn_ratio", "f_declined_ratio_30d",
    "f_chargebacks_365d", "f_avg_ticket_change", "f_device_count_30d", "f_ip_risk_score",
    "f_email_age_days", "f_failed_logins_7d", "f_velocity_1h",
]


def load(database_url, psql, limit):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "users.csv")
        query = (f"SELECT user_id, {', '.join(FEATURES)}, is_fraud::int FROM demo.users "
                 f"WHERE user_id <= {limit} ORDER BY user_id")
        subprocess.run([psql, database_url, "-qc", f"\\copy ({query}) TO '{path}' CSV"], check=True)
        with open(path) as f:
            rows = list(csv.reader(f))
    keys = np.array([int(r[0]) for r in rows], dtype=np.int64)
    X = np.array([[float(v) if v != "" else np.nan for v in r[1:-1]] for r in rows], dtype=np.float64)
    y = np.array([int(r[-1]) for r in rows], dtype=np.float64)
    return keys, X, y


def thresholds(booster):
    """(feature index, threshold) of every split, from the model's own JSON."""
    import json
    model = json.loads(booster.save_raw("json"))
    out = []
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for left, feature, condition in zip(tree["left_children"], tree["split_indices"], tree["split_conditions"]):
            if left != -1:
                out.append((feature, condition))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--psql", default="psql")
    parser.add_argument("--out", default="jobs/models")
    parser.add_argument("--fixture", default="Tests/PrescoreCoreTests/Fixtures")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()

    keys, X, y = load(args.database_url, args.psql, args.rows)
    train = xgb.DMatrix(X, label=y, feature_names=FEATURES, missing=np.nan)
    params = {
        "objective": "binary:logistic", "max_depth": 6, "eta": 0.08, "subsample": 0.8,
        "colsample_bytree": 0.8, "min_child_weight": 2, "tree_method": "hist", "seed": 7, "nthread": 2,
        "eval_metric": "auc",
    }
    booster = xgb.train(params, train, num_boost_round=160)
    auc = booster.eval(train)
    booster.save_model(os.path.join(args.out, "fraud_risk.json"))

    # Parity rows: every 67th user, then extra missing values and threshold-edge values.
    rng = np.random.default_rng(11)
    pick = np.arange(0, len(keys), 67)
    fk, fx = keys[pick].copy(), X[pick].copy()
    fx[rng.random(fx.shape) < 0.08] = np.nan
    splits = thresholds(booster)
    edge_rows = []
    for i in range(600):
        feature, t = splits[rng.integers(len(splits))]
        row = X[rng.integers(len(X))].copy()
        t32 = np.float32(t)
        row[feature] = float([t32, np.nextafter(t32, np.float32(-np.inf)), np.nextafter(t32, np.float32(np.inf))][i % 3])
        edge_rows.append(row)
    fx = np.vstack([fx, np.array(edge_rows)])
    fk = np.concatenate([fk, np.arange(10_000_001, 10_000_001 + len(edge_rows))])
    predictions = booster.inplace_predict(fx, missing=np.nan)

    with open(os.path.join(args.fixture, "fraud_risk_parity_input.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["key"] + FEATURES)
        for k, row in zip(fk, fx):
            w.writerow([k] + ["" if np.isnan(v) else repr(float(v)) for v in row])
    with open(os.path.join(args.fixture, "fraud_risk_parity_expected.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["key", "score"])
        for k, p in zip(fk, predictions):
            w.writerow([k, np.format_float_positional(np.float32(p), unique=True)])
    print(f"trained on {len(keys)} users ({int(y.sum())} fraud), {auc}; "
          f"{len(fk)} parity rows; xgboost {xgb.__version__}")


if __name__ == "__main__":
    main()
