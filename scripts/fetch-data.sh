#!/usr/bin/env bash
# Puts a dataset under data/<name>/. Usage: scripts/fetch-data.sh ml-100k
# ml-100k: copied from ../shared/datasets/ml-100k when present, otherwise read out of the recbole 1.2.1 wheel
# on PyPI (recbole/dataset_example/ml-100k/), which needs only pip.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-ml-100k}"
dest="data/$name"
case "$name" in
  ml-100k) files=(ml-100k.inter ml-100k.item ml-100k.user) ;;
  *) echo "fetch-data: unknown dataset '$name' (known: ml-100k)" >&2; exit 2 ;;
esac
if [ -s "$dest/${files[0]}" ]; then exit 0; fi
mkdir -p "$dest"
shared="../shared/datasets/$name"
if [ -s "$shared/${files[0]}" ]; then
  for f in "${files[@]}"; do cp "$shared/$f" "$dest/$f"; done
  echo "fetch-data: copied $name from $shared" >&2
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-data: downloading the recbole 1.2.1 wheel from PyPI for $name" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" recbole==1.2.1
wheel="$(ls "$tmp"/recbole-1.2.1-*.whl | head -n 1)"
python3 - "$wheel" "$dest" "${files[@]}" <<'PY'
import sys, zipfile
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with z.open("recbole/dataset_example/ml-100k/" + n) as src, open(dest + "/" + n, "wb") as out:
            out.write(src.read())
PY
echo "fetch-data: wrote ${files[*]} to $dest" >&2
