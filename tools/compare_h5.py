#!/usr/bin/env python3
"""Compare two asemc output files dataset by dataset.

Every dataset of either file is compared with its namesake in the other: the same
shape, and the same values to the bit (`--rtol` allows a relative difference instead).
Point attributes are compared too. What changes from run to run by its nature (wall
times, rates, the run's date, the build that made it) is left out and listed as such.

    python3 tools/compare_h5.py A.h5 B.h5 [--rtol R] [--quiet]

Prints one line per differing dataset and a closing line `N same, M differ, K only in
one file`; exits 1 when anything differs. Needs h5py and numpy (`pip install h5py`).
"""

import argparse
import sys

import h5py
import numpy as np

# Datasets and attributes that measure the run rather than the physics.
TIMING = ("wall_time_s", "transport_s", "photon_steps_per_s", "platelet_steps_per_s",
          "photons_per_s")
RUN_ATTRS = ("created_utc", "git_commit", "asemc_version", "config_path", "adapter", "backend",
             "host", "threads", "build_hash", "source_hash", "wall_time_s")


def walk(group, prefix=""):
    """Every dataset below `group`, by path."""
    out = {}
    for name, item in group.items():
        path = f"{prefix}/{name}"
        if isinstance(item, h5py.Group):
            out.update(walk(item, path))
        else:
            out[path] = item
    return out


def timing(path):
    leaf = path.rsplit("/", 1)[-1]
    return any(leaf == t or leaf.endswith("_per_s") for t in TIMING)


def same(a, b, rtol):
    if a.shape != b.shape:
        return False, f"shapes {a.shape} and {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        both_nan = np.isnan(x) & np.isnan(y)
        diff = np.where(both_nan, 0.0, np.abs(x - y))
        scale = np.maximum(np.abs(x), np.abs(y))
        worst = float(np.max(diff)) if diff.size else 0.0
        rel = float(np.max(np.where(scale > 0, diff / np.where(scale > 0, scale, 1), 0))) if diff.size else 0.0
        ok = worst == 0.0 if rtol == 0.0 else rel <= rtol
        return ok, f"max |difference| {worst:.3e}, relative {rel:.3e}"
    ok = np.array_equal(np.asarray(a), np.asarray(b))
    return ok, "values differ"


def attrs(obj):
    return {k: obj.attrs[k] for k in obj.attrs if k not in RUN_ATTRS}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rtol", type=float, default=0.0,
                    help="relative difference allowed (default 0: the same to the bit)")
    ap.add_argument("--quiet", action="store_true", help="print only the closing line")
    args = ap.parse_args()
    with h5py.File(args.a, "r") as fa, h5py.File(args.b, "r") as fb:
        da, db = walk(fa), walk(fb)
        n_same = n_diff = n_only = n_skipped = 0
        for path in sorted(set(da) | set(db)):
            if path not in da or path not in db:
                n_only += 1
                print(f"only in {'B' if path not in da else 'A'}: {path}")
                continue
            if timing(path):
                n_skipped += 1
                continue
            ok, why = same(da[path][()] if da[path].shape == () else da[path][...],
                           db[path][()] if db[path].shape == () else db[path][...],
                           args.rtol) if da[path].shape != () else same(
                np.asarray(da[path][()]), np.asarray(db[path][()]), args.rtol)
            if ok:
                n_same += 1
            else:
                n_diff += 1
                print(f"differs: {path}: {why}")
        # Attributes of the groups (points and root), less the run's own.
        groups_a = {p.rsplit("/", 1)[0] for p in da} | {""}
        for g in sorted(groups_a):
            ga, gb = (fa[g] if g else fa), (fb[g] if g and g in fb else (fb if not g else None))
            if gb is None:
                continue
            aa, ab = attrs(ga), attrs(gb)
            for k in sorted(set(aa) | set(ab)):
                va, vb = aa.get(k), ab.get(k)
                if va is None or vb is None or not np.array_equal(np.asarray(va), np.asarray(vb)):
                    if k in ("config_toml",):
                        # The resolved config names the run's own seed and options; a
                        # different text is reported, not counted as a physics difference.
                        print(f"attribute {g or '/'}@{k}: differs (not counted)")
                        continue
                    n_diff += 1
                    print(f"differs: attribute {g or '/'}@{k}")
        print(f"{n_same} same, {n_diff} differ, {n_only} only in one file"
              f" ({n_skipped} timings left out)")
        return 1 if n_diff or n_only else 0


if __name__ == "__main__":
    sys.exit(main())
