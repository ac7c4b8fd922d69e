#!/usr/bin/env bash
# The Fashion-MNIST recipe search on one GPU, unattended: run it again after a stop (a time
# limit, a lost machine with the runs folder kept) and it continues where it stopped.
#
#   1. the augmentation matrix (SimCLR's figure 5, docs/sweep.md): pairs of crop, jitter,
#      blur, flip, noise (grey is the identity on grey images): 15 points;
#   2. crop scale x temperature x jitter strength on the recipe's own views: 12 points;
#   3. once every point of 2 has run, its best at full size (60,000 images), $EPOCHS epochs.
#
# Steps 1 and 2: the reduced protocol (a seeded sample of $SUBSET = 10,000 training images,
# all 10,000 test images, $REDUCED_EPOCHS epochs), configs/fashion_simclr.yaml (bf16) with
# $MODEL = ResNet-18 (CIFAR stem), batch 512; $PARALLEL points at a time sharing the GPU, no
# point started after $LIMIT seconds (the rest run on the next call). Step 3 resumes from
# its checkpoint.
# Results: $RUNS/{pairs,recipe}/sweep.{json,html}, $RUNS/best/metrics.json; copied to $OUT
# when it is set. Run from the repository root:
#   bash benchmarks/fashion_sweep.sh
# A smoke test on a CPU (two points per sweep, a tiny model, one epoch):
#   RUNS=/tmp/fs LIMIT=1 PARALLEL=2 SUBSET=500 REDUCED_EPOCHS=1 EPOCHS=1 \
#   MODEL="model.encoder=small_cnn train.batch_size=64" bash benchmarks/fashion_sweep.sh
set -euo pipefail
RUNS=${RUNS:-runs/fashion}
PARALLEL=${PARALLEL:-8}
SUBSET=${SUBSET:-10000}
REDUCED_EPOCHS=${REDUCED_EPOCHS:-15}
LIMIT=${LIMIT:-60}
EPOCHS=${EPOCHS:-60}
MODEL=${MODEL:-"model.encoder=resnet18 model.stem=cifar train.batch_size=512"}
PY=${PY:-python}
ck() { "$PY" -m contrastkit "$@"; }

sets=()
for setting in $MODEL; do sets+=(--set "$setting"); done
reduced=(--config configs/fashion_simclr.yaml "${sets[@]}" --subset "$SUBSET"
  --epochs "$REDUCED_EPOCHS" --parallel "$PARALLEL" --time-limit "$LIMIT")
ck sweep "${reduced[@]}" --grid augment=pairs:crop,jitter,blur,flip,noise --out "$RUNS/pairs"
ck sweep "${reduced[@]}" --out "$RUNS/recipe" \
  --grid 'augment.crop_scale=[[0.2,1],[0.4,1],[0.6,1]]' --grid 'method.temperature=[0.1,0.2]' \
  --grid 'augment.brightness,augment.contrast=[0.4,0.8]'

left=$("$PY" -c 'import json, sys
points = json.load(open(sys.argv[1]))["points"]
print(sum(p["status"] not in ("done", "failed") for p in points))' "$RUNS/recipe/sweep.json")
best=$RUNS/best
if [ "$left" != 0 ]; then
  echo "$left point(s) of $RUNS/recipe still to run: run this script again to finish them"
elif [ -f "$best/metrics.json" ]; then
  ck eval --run "$best" --cached
elif [ -f "$best/checkpoint.pt" ]; then
  ck train --resume --out "$best" --no-progress
else
  ck train --config "$RUNS/recipe/best.yaml" --set train.epochs="$EPOCHS" \
    --set eval.baselines=false --out "$best" --no-progress
fi

if [ -n "${OUT:-}" ]; then
  for part in pairs recipe; do
    mkdir -p "$OUT/$part"
    cp "$RUNS/$part/sweep.json" "$RUNS/$part/sweep.html" "$RUNS/$part/best.yaml" "$OUT/$part/"
  done
  if [ -f "$best/metrics.json" ]; then cp "$best/metrics.json" "$best/config.yaml" "$OUT/"; fi
fi
