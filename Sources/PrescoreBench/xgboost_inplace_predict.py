#!/usr/bin/env python3
"""XGBoost's own throughput on the bench's rows, printed as one JSON line.

Reads the float32 row-major matrix the Swift bench wrote (NaN = missing) and times
Booster.inplace_predict on 1 thread and on all cores (best of --repeat), then writes its predictions
so the bench can check that both sides computed the same scores.
"""
import argparse
import json
import os
import time

import numpy as np
import xgboost as xgb

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--rows", required=True)
parser.add_argument("--features", type=int, required=True)
parser.add_argument("--predictions", required=True)
parser.add_argument("--repeat", type=int, default=3)
args = parser.parse_args()

X = np.fromfile(args.rows, dtype=np.float32).reshape(-1, args.features)
booster = xgb.Booster(model_file=args.model)
booster.feature_names = None  # the matrix is already in the model's feature order
result = {"xgboost": xgb.__version__, "rows": len(X)}
for label, threads in (("one_core", 1), ("all_cores", os.cpu_count())):
    booster.set_param({"nthread": threads})
    booster.inplace_predict(X[:10000], missing=np.nan)  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        predictions = booster.inplace_predict(X, missing=np.nan)
        best = min(best, time.perf_counter() - start)
    result[label] = len(X) / best
predictions.astype(np.float32).tofile(args.predictions)
print(json.dumps(result))
