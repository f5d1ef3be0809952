"""Reference values for Prescore's lift statistics, computed independently with SciPy.

Writes lift_reference.json beside this file: data sets (per-unit values of each arm, optional
pre-period covariates) and every figure the report gives, from scipy.stats and the formulas of
README "For analysts". Run: python3 make_lift_reference.py (numpy and scipy).
"""
import json
import os

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261202)
Z = stats.norm.ppf(0.975)


def rel_interval(mc, mt, vc, vt):
    rel = mt / mc - 1
    var = vt / mc**2 + mt**2 * vc / mc**4
    return rel, [rel - Z * var**0.5, rel + Z * var**0.5]


def continuous(c, t):
    res = stats.ttest_ind(t, c, equal_var=False)
    vc, vt = c.var(ddof=1) / len(c), t.var(ddof=1) / len(t)
    se = (vc + vt) ** 0.5
    df = (vc + vt) ** 2 / (vc**2 / (len(c) - 1) + vt**2 / (len(t) - 1))
    diff = t.mean() - c.mean()
    half = stats.t.ppf(0.975, df) * se
    rel, rel_ci = rel_interval(c.mean(), t.mean(), vc, vt)
    return {"kind": "continuous", "control_mean": c.mean(), "treatment_mean": t.mean(), "abs_lift": diff,
            "abs_ci": [diff - half, diff + half], "rel_lift": rel, "rel_ci": rel_ci, "p_value": res.pvalue}


def binary(c, t):
    pc, pt = c.mean(), t.mean()
    pooled = (c.sum() + t.sum()) / (len(c) + len(t))
    z = (pt - pc) / (pooled * (1 - pooled) * (1 / len(c) + 1 / len(t))) ** 0.5
    vc, vt = pc * (1 - pc) / len(c), pt * (1 - pt) / len(t)
    half = Z * (vc + vt) ** 0.5
    rel, rel_ci = rel_interval(pc, pt, vc, vt)
    return {"kind": "binary", "control_mean": pc, "treatment_mean": pt, "abs_lift": pt - pc,
            "abs_ci": [pt - pc - half, pt - pc + half], "rel_lift": rel, "rel_ci": rel_ci,
            "p_value": 2 * stats.norm.sf(abs(z))}


def cuped(c, t, xc, xt):
    y, x = np.concatenate([c, t]), np.concatenate([xc, xt])
    theta = np.cov(y, x, ddof=1)[0, 1] / x.var(ddof=1)
    adj = lambda v, w: v - theta * (w - x.mean())
    r = continuous(adj(c, xc), adj(t, xt))
    return {"theta": theta, "abs_lift": r["abs_lift"], "abs_ci": r["abs_ci"], "p_value": r["p_value"]}


cases = []
c, t = rng.normal(10, 3, 400), rng.normal(10.6, 3.4, 300)
cases.append({"name": "continuous effect", "control": c, "treatment": t, "expected": continuous(c, t)})
c, t = rng.normal(5, 1, 500), rng.normal(5, 1, 500)
cases.append({"name": "continuous zero effect", "control": c, "treatment": t, "expected": continuous(c, t)})
c, t = (rng.random(2000) < 0.10).astype(float), (rng.random(1800) < 0.12).astype(float)
cases.append({"name": "binary effect", "control": c, "treatment": t, "expected": binary(c, t)})
xc, xt = rng.normal(20, 5, 300), rng.normal(20, 5, 300)
c, t = 0.8 * xc + rng.normal(0, 2, 300), 0.8 * xt + rng.normal(0.5, 2, 300)
cases.append({"name": "cuped", "control": c, "treatment": t, "covariate_control": xc, "covariate_treatment": xt,
              "expected": continuous(c, t), "expected_cuped": cuped(c, t, xc, xt)})

counts, split = [9_030, 970], [90, 10]
chi2, p = stats.chisquare(counts, f_exp=[sum(counts) * s / sum(split) for s in split])
srm_ok = {"counts": counts, "split": split, "chi2": chi2, "p_value": p}
counts, split = [9_300, 700], [90, 10]
chi2, p = stats.chisquare(counts, f_exp=[sum(counts) * s / sum(split) for s in split])
srm_bad = {"counts": counts, "split": split, "chi2": chi2, "p_value": p}

pvalues = [0.01, 0.04, 0.03, 0.2]
m = len(pvalues)
order = np.argsort(pvalues)
holm, running = [0.0] * m, 0.0
for rank, index in enumerate(order):
    running = max(running, min(1.0, (m - rank) * pvalues[index]))
    holm[index] = running

def listed(value):
    return value.tolist() if isinstance(value, np.ndarray) else value

out = {
    "cases": [{k: listed(v) for k, v in case.items()} for case in cases],
    "srm": [srm_ok, srm_bad],
    "holm": {"p_values": pvalues, "adjusted": holm},
    "t_quantiles": [{"df": df, "q": stats.t.ppf(0.975, df)} for df in [1, 2.5, 10, 57.3, 1000]],
    "chi2_tails": [{"x": x, "df": df, "p": stats.chi2.sf(x, df)} for x, df in [(3.84, 1), (12.0, 3), (0.5, 2), (40.0, 1)]],
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lift_reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, default=float)
print("wrote", path)
