"""GOSPA decomposition of a sharded `isac multitarget evaluate` run (issue 19, the η = 1 GOSPA question).

Reads the shard payloads (`shard-*-of-*.bin`, format `ShardedEvaluation.encode`: little-endian int64 / IEEE-754
doubles) and the merged `--json` of `isac merge` (for each mode's calibrated threshold δ), re-applies δ to every
stored test outcome with the first-below rule of Algorithm 1, and splits the squared GOSPA (μ = 2, p = 2) of each
sample into its additive parts:

    d² = Σ_assigned min(‖p − p̂‖, γ)²  +  (γ²/2) · (#missed + #false)
       = localization (pairs closer than γ)  +  γ² · #(assigned pairs at ≥ γ)  +  (γ²/2)(#missed + #false)

The optimal assignment is found by enumerating permutations (T ≤ T_max = 5 here), an implementation independent of
ISACKit's Hungarian solver; the script checks that its mean GOSPA equals the merged `gospa_m` (to 1e-9 m).
Means come with 95 % normal intervals (1.96 σ/√n over i.i.d. scenes) and a paired difference unknown − known
(the same scenes in both modes).

    python3 bench/multitarget/gospa_components.py SHARD_DIR MERGED.json [--cutoff 90]
    python3 bench/multitarget/gospa_components.py SHARD_DIR - [--cutoff 90]   # unmerged/partial: δ calibrated here
                                                                              # (p_fa 1e-2, T_max 5, as `Calibration`)

Standard library only. Prints one JSON object.
"""
import glob
import itertools
import json
import math
import os
import struct
import sys


def read_payload(path):
    b = open(path, "rb").read()
    at = 0

    def u64():
        nonlocal at
        v = struct.unpack_from("<q", b, at)[0]
        at += 8
        return v

    def dbl():
        nonlocal at
        v = struct.unpack_from("<d", b, at)[0]
        at += 8
        return v

    def dbls():
        return [dbl() for _ in range(u64())]

    assert b[:8] == b"ISACMTS1", f"{path}: not a multitarget shard payload"
    at = 8
    methods = []
    for _ in range(u64()):
        n = u64()
        label = b[at:at + n].decode()
        at += n
        cf, cn, tf, tn = u64(), u64(), u64(), u64()
        dbl()  # run time
        outs = []
        for _ in range(cn + tn):
            tc = u64()
            peaks = dbls()
            xy = dbls()
            dbls(); dbls()  # true angles, ranges
            ea, er = dbls(), dbls()
            u64(); u64()  # symbol errors, symbols
            outs.append((tc, peaks, [(xy[2 * k], xy[2 * k + 1]) for k in range(len(xy) // 2)], ea, er))
        methods.append((label, tf, outs[cn:], cf, outs[:cn]))
    return methods


def first_below(peaks, delta):
    for i, p in enumerate(peaks):
        if not p > delta:
            return i
    return len(peaks)


def components(truth, est, gamma):
    """(d, localization, far_pairs, missed, false) for one scene; d² = loc + γ² far + γ²/2 (missed + false)."""
    small, large, swap = (truth, est, False) if len(truth) <= len(est) else (est, truth, True)
    best = None
    for perm in itertools.permutations(range(len(large)), len(small)):
        c = 0.0
        for a, j in zip(small, perm):
            dx, dy = large[j][0] - a[0], large[j][1] - a[1]
            c += min(math.sqrt(dx * dx + dy * dy), gamma) ** 2
        if best is None or c < best[0]:
            best = (c, perm)
    cost, perm = best if best else (0.0, ())
    loc, far = 0.0, 0
    for a, j in zip(small, perm):
        dx, dy = large[j][0] - a[0], large[j][1] - a[1]
        d = math.sqrt(dx * dx + dy * dy)
        if d < gamma:
            loc += d * d
        else:
            far += 1
    extra = len(large) - len(small)
    missed, false = (extra, 0) if swap else (0, extra)
    total = cost + gamma * gamma / 2 * extra
    return math.sqrt(total), loc, far, missed, false


def counts(outs, tmax, delta):
    """(p_md, p_fa) of eqs. (20)–(21) at δ (first-below rule), as `DetectionCounts`."""
    tt = det = fa = opp = 0
    for tc, peaks, *_ in outs:
        e = first_below(peaks, delta)
        tt += tc; det += min(tc, e); fa += max(tc, e) - tc; opp += tmax - tc
    return (1 - det / tt if tt else float("nan")), (fa / opp if opp else float("nan"))


def calibrate(outs, tmax, target):
    """Smallest δ in {0} ∪ {peaks} with empirical p_fa ≤ target (as `Calibration.calibrate`)."""
    cand = [0.0] + sorted({p for _, peaks, *_ in outs for p in peaks if math.isfinite(p) and p >= 0})
    pf = lambda d: (lambda v: 0.0 if math.isnan(v) else v)(counts(outs, tmax, d)[1])
    lo, hi = 0, len(cand) - 1
    if pf(cand[lo]) <= target:
        return cand[lo]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pf(cand[mid]) <= target:
            hi = mid
        else:
            lo = mid
    return cand[hi]


def mean_ci(xs):
    n = len(xs)
    m = sum(xs) / n
    v = sum((x - m) ** 2 for x in xs) / (n - 1) if n > 1 else 0.0
    h = 1.96 * math.sqrt(v / n)
    return {"mean": m, "lo95": m - h, "hi95": m + h}


def main():
    args = sys.argv[1:]
    gamma = 90.0
    if "--cutoff" in args:
        k = args.index("--cutoff")
        gamma = float(args[k + 1])
        del args[k:k + 2]
    tmax, pfa_target = 5, 1e-2
    if len(args) != 2:
        sys.exit("usage: gospa_components.py SHARD_DIR MERGED.json|- [--cutoff 90]")
    shard_dir, merged = args
    res = None if merged == "-" else {r["impairments"]: r for r in json.load(open(merged))["results"]}
    per_mode = {}
    for path in sorted(glob.glob(os.path.join(shard_dir, "shard-*-of-*.bin"))):
        for label, tf, outs, cf, cal in read_payload(path):
            per_mode.setdefault(label, []).append((tf, outs, cf, cal))
    out, rows = {"cutoff_m": gamma, "modes": {}}, {}
    for label, blocks in per_mode.items():
        blocks.sort(key=lambda b: b[0])
        outs = [o for b in blocks for o in b[1]]
        cal = [o for b in sorted(blocks, key=lambda b: b[2]) for o in b[3]]
        if res is not None:
            r = res[label]
            delta = r["threshold"]
        else:                       # partial run: calibrate δ here on the available calibration outcomes
            delta = calibrate(cal, tmax, pfa_target)
            c = counts(outs, tmax, delta)
            r = {"threshold": delta, "gospa_m": float("nan"), "p_md": c[0], "p_fa": c[1]}
        g, loc, farc, mis, fal, d2 = [], [], [], [], [], []
        for tc, peaks, truth, ea, er in outs:
            n = first_below(peaks, delta)
            est = [(er[i] * math.cos(ea[i]), er[i] * math.sin(ea[i])) for i in range(n)]
            d, l, f, m, fa = components(truth, est, gamma)
            g.append(d); loc.append(l); farc.append(f); mis.append(m); fal.append(fa); d2.append(d * d)
        rows[label] = (g, loc, farc, mis, fal, d2)
        mg = sum(g) / len(g)
        out["modes"][label] = {
            "samples": len(g), "threshold": delta, "gospa_m": mean_ci(g), "merged_gospa_m": r["gospa_m"],
            "matches_merged": abs(mg - r["gospa_m"]) < 1e-9,
            "mean_squared_gospa_m2": mean_ci(d2),
            "localization_m2": mean_ci(loc),
            "far_pairs_times_gamma2_m2": mean_ci([gamma * gamma * x for x in farc]),
            "missed_times_gamma2_over_2_m2": mean_ci([gamma * gamma / 2 * x for x in mis]),
            "false_times_gamma2_over_2_m2": mean_ci([gamma * gamma / 2 * x for x in fal]),
            "missed_per_scene": mean_ci(mis), "false_per_scene": mean_ci(fal),
            "p_md": r["p_md"], "p_fa": r["p_fa"],
        }
    if "unknown" in rows and "known" in rows:
        names = ["gospa_m", "localization_m2", "far_pairs", "missed", "false", "squared_gospa_m2"]
        out["paired_unknown_minus_known"] = {
            nm: mean_ci([a - b for a, b in zip(rows["unknown"][k], rows["known"][k])]) for k, nm in enumerate(names)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
