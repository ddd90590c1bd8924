#!/bin/bash
# Mutations the test suite must catch: each one patches a line of the sources, runs
# the tests that should see it, expects them to fail, and restores the line.
#   tools/mutants.sh            (from the repository root; about 5 minutes)
# Prints one line a mutation: "caught" (the tests failed) or "MISSED".
set -u
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/asemc-xdg}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
log=$(mktemp -d)
missed=0
mutate() { # name, file, old text, new text, nextest filter
  local name=$1 file=$2 old=$3 new=$4 filter=$5
  cp "$file" "$log/backup"
  python3 - "$file" "$old" "$new" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
assert old in text, f"{path}: {old!r} not found"
open(path, "w").write(text.replace(old, new, 1))
PY
  if cargo nextest run --release --no-fail-fast -E "$filter" > "$log/$name.log" 2>&1; then
    echo "MISSED $name"; missed=1
  else
    echo "caught $name: $(grep -m1 -A1 'panicked at' "$log/$name.log" | tail -1 | sed 's/^ *//' | cut -c1-160)"
  fi
  cp "$log/backup" "$file"
}
# A point's file written in place, not committed by a rename (crash.rs).
mutate no-atomic-rename src/output/writer.rs \
  'let tmp = PathBuf::from(tmp);' 'let tmp = path.to_path_buf();' \
  'binary(crash) & test(anywhere_in_a_write)'
# The device's uniforms from 16 bits instead of 24 (gpu.rs, same streams: 3σ would pass).
mutate gpu-16-bit-uniforms shaders/shared/philox.wgsl \
  'return (f32(x >> 8u) + 0.5) * (1.0 / 16777216.0);' 'return (f32(x >> 16u) + 0.5) * (1.0 / 65536.0);' \
  'binary(gpu) & (test(gpu_transport_matches) | test(agrees_with_the_cpu_backend))'
# Poisson means 1 % high (gain.rs: the old ±0.02 on the transparency point would pass).
mutate poisson-mean-1pc src/ase/platelets.rs \
  '    let mut left = mean;' '    let mut left = mean * 1.01;' \
  'binary(gain)'
# The emitter's x mirrored (analytic.rs).
mutate source-x-mirrored src/transport/simulate.rs \
  'x: um_to_cm(c.source.x_um),' 'x: -um_to_cm(c.source.x_um),' \
  'binary(analytic) & test(off_the_centre)'
# A missing key refused without naming it (fuzz_config.rs).
mutate missing-key-unnamed src/config/load.rs \
  '["unknown field `", "missing field `"]' '["unknown field `"]' \
  'binary(fuzz_config)'
rm -rf "$log"
exit $missed
