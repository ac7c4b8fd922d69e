#!/usr/bin/env bash
# The Fashion-MNIST recipe search on one GPU, unattended: run it again after a stop (a time
# limit, a lost machine with the runs folder kept) and it continues where it stopped.
#
#   1. the augmentation matrix (SimCLR's figure 5, docs/sweep.md): pairs of crop, jitter,
#      blur, flip, noise (grey is the identity on grey images): 15 points;
#   2. crop scale x temperature x jitter strength on the recipe's own views: 27 points,
#      the CPU sweep's grid (docs/sweep.md, "crop scale x temperature") with the three
#      strongest jitter strengths of the CPU sweep (docs/vision.md, 0.8 / 1.2 / 1.6);
#   3. once every point of 2 has run, its best at full size (all 60,000 images) for each
#      number of epochs in $CURVE: kNN against epochs, each a run with its own schedule
#      (the line plot of $RUNS/epochs/sweep.html); the longest is the recipe's full row.
#
# Steps 1 and 2: the reduced protocol (a seeded sample of $SUBSET = 10,000 training images,
# all 10,000 test images, $REDUCED_EPOCHS epochs), configs/fashion_simclr.yaml (bf16) with
# $MODEL = ResNet-18 (CIFAR stem), batch 512; $PARALLEL points at a time sharing the GPU
# ($CURVE_PARALLEL in step 3), no point started after $LIMIT seconds (the rest run on the
# next call; a stopped point resumes from its checkpoint).
# Results: $RUNS/{pairs,recipe,epochs}/sweep.{json,html}; copied to $OUT when it is set. Run
# from the repository root:
#   bash benchmarks/fashion_sweep.sh
# A smoke test on a CPU (two points per sweep, a tiny model, one epoch):
#   RUNS=/tmp/fs LIMIT=1 PARALLEL=2 SUBSET=500 REDUCED_EPOCHS=1 CURVE=1,2 \
#   MODEL="model.encoder=small_cnn train.batch_size=64" bash benchmarks/fashion_sweep.sh
set -euo pipefail
RUNS=${RUNS:-runs/fashion}
PARALLEL=${PARALLEL:-8}
CURVE_PARALLEL=${CURVE_PARALLEL:-4}
SUBSET=${SUBSET:-10000}
REDUCED_EPOCHS=${REDUCED_EPOCHS:-15}
LIMIT=${LIMIT:-60}
CURVE=${CURVE:-25,50,100,200}
MODEL=${MODEL:-"model.encoder=resnet18 model.stem=cifar train.batch_size=512"}
PY=${PY:-python}
ck() { "$PY" -m contrastkit "$@"; }
left() {  # points of a sweep neither done nor failed
  "$PY" -c 'import json, sys
points = json.load(open(sys.argv[1]))["points"]
print(sum(p["status"] not in ("done", "failed") for p in points))' "$1/sweep.json"
}

sets=()
for setting in $MODEL; do sets+=(--set "$setting"); done
reduced=(--config configs/fashion_simclr.yaml "${sets[@]}" --subset "$SUBSET"
  --epochs "$REDUCED_EPOCHS" --parallel "$PARALLEL" --time-limit "$LIMIT")
ck sweep "${reduced[@]}" --grid augment=pairs:crop,jitter,blur,flip,noise --out "$RUNS/pairs"
ck sweep "${reduced[@]}" --out "$RUNS/recipe" \
  --grid 'augment.crop_scale=[[0.4,1],[0.6,1],[0.8,1]]' \
  --grid 'method.temperature=[0.05,0.1,0.2]' \
  --grid 'augment.brightness,augment.contrast=[0.8,1.2,1.6]'

parts=(pairs recipe)
waiting=$(left "$RUNS/recipe")
if [ "$waiting" != 0 ]; then
  echo "$waiting point(s) of $RUNS/recipe still to run: run this script again to finish them"
else
  ck sweep --config "$RUNS/recipe/best.yaml" --grid "train.epochs=[$CURVE]" \
    --parallel "$CURVE_PARALLEL" --time-limit "$LIMIT" --out "$RUNS/epochs"
  parts+=(epochs)
fi

if [ -n "${OUT:-}" ]; then
  for part in "${parts[@]}"; do
    mkdir -p "$OUT/$part"
    cp "$RUNS/$part/sweep.json" "$RUNS/$part/sweep.html" "$OUT/$part/"
    if [ -f "$RUNS/$part/best.yaml" ]; then cp "$RUNS/$part/best.yaml" "$OUT/$part/"; fi
  done
fi
