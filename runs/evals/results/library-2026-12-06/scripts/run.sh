#!/bin/bash
# One `gauntlet eval panel --library-arm` per case (library on and off in the same invocation, same seed), each
# under the model lock, so a stop leaves finished cases; the per-case reports are pooled afterwards.
cd "$(dirname "$0")/../../../../.."
OUT=runs/evals/results/library-2026-12-06
for c in "$@"; do
  d=$OUT/cases/$c; mkdir -p $d
  [ -f $d/panel.json ] && continue
  echo "$(date +%T) start $c" >> $OUT/progress.log
  flock /tmp/gauntlet-model.lock gauntlet eval panel runs/evals/panel.yaml --only $c --no-baseline --library-arm --json --out $d --db $d/runs.sqlite > $d/stdout.json 2> $d/stderr.log
  echo "$(date +%T) end $c rc=$?" >> $OUT/progress.log
done
