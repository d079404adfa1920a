#!/usr/bin/env bash
# OSRA (Debian's `osra`, rule-based optical structure recognition) on a labelled set, as the reference
# the captioner is held against (issue 21): writes a submission CSV of OSRA's InChIs, scores it with
# `dojo mol score`, and reports seconds per image.
#   bench/osra_reference.sh DATASET_DIR [LIMIT] [DOJO]   (DATASET_DIR holds train_labels.csv, train/)
set -euo pipefail
dir=$1 limit=${2:-1000} dojo=${3:-build/dojo}
out=$(mktemp -d)
echo "image_id,InChI" > "$out/osra.csv"
tail -n +2 "$dir/train_labels.csv" | head -n "$limit" | cut -d, -f1 > "$out/ids"
awk -F, 'NR == 1 || NR <= '"$((limit + 1))"'' "$dir/train_labels.csv" > "$out/labels.csv"
start=$(date +%s.%N)
while read -r id; do
  png="$dir/train/${id:0:1}/${id:1:1}/${id:2:1}/$id.png"
  # OSRA prints one InChI per structure it finds; none (it gave up) scores as an empty prediction.
  inchi=$(osra -f inchi "$png" 2> /dev/null | head -n 1 || true)
  printf '%s,"%s"\n' "$id" "$inchi" >> "$out/osra.csv"
done < "$out/ids"
end=$(date +%s.%N)
n=$(wc -l < "$out/ids")
"$dojo" mol score "$out/osra.csv" "$out/labels.csv"
python3 -c "print(f'OSRA: {($end - $start) / $n:.2f} s/image over $n images (one process)')"
echo "submission: $out/osra.csv"
