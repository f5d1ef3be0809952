#!/usr/bin/env python3
"""Trains a model of a given shape on demo.users, for `prescore-bench scoring --model`.

The scoring benchmark holds the demo model and other shapes to their targets: deeper trees (more
levels per row) and features with thousands of distinct split values (more than a byte of bins).
Scores do not matter here, only the shape; the label is the demo's is_fraud.
"""
import argparse
import json
import os
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../jobs/models"))
from train_fraud_risk import FEATURES, load  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--database-url", required=True)
parser.add_argument("--psql", default="psql")
parser.add_argument("--rows", type=int, default=200000)
parser.add_argument("--depth", type=int, required=True)
parser.add_argument("--trees", type=int, required=True)
parser.add_argument("--max-bin", type=int, default=256)
parser.add_argument("--out", required=True)
args = parser.parse_args()

_, X, y = load(args.database_url, args.psql, args.rows)
train = xgb.DMatrix(X, label=y, feature_names=FEATURES, missing=np.nan)
params = {
    "objective": "binary:logistic", "tree_method": "hist", "max_depth": args.depth,
    "max_bin": args.max_bin, "eta": 0.1, "min_child_weight": 0, "gamma": 0, "lambda": 0.01,
    "subsample": 0.8, "seed": 1,
}
booster = xgb.train(params, train, num_boost_round=args.trees)
booster.save_model(args.out)
model = json.loads(booster.save_raw("json"))
distinct = {}
for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
    for left, feature, condition in zip(tree["left_children"], tree["split_indices"], tree["split_conditions"]):
        if left != -1:
            distinct.setdefault(feature, set()).add(condition)
print(f"{args.out}: {args.trees} trees, depth {args.depth}, max_bin {args.max_bin}, "
      f"most distinct thresholds of a feature: {max(len(s) for s in distinct.values())}")
