#!/usr/bin/env bash
# Puts a dataset under data/<name>/. Usage: scripts/fetch-data.sh ml-100k | ml-1m
# ml-100k: copied from ../shared/datasets/ml-100k when present, otherwise read out of the recbole 1.2.1 wheel
# on PyPI (recbole/dataset_example/ml-100k/), which needs only pip.
# ml-1m: GroupLens's original ml-1m.zip (md5 c4d9eecfca2ab87c1945afe126590906, the checksum GroupLens publishes),
# read out of the scikit-rec 0.3.0 source archive on PyPI (examples/data/movielens-1m/ml-1m.zip, 48 MB download;
# later scikit-rec releases dropped it): ratings.dat (UserID::MovieID::Rating::Timestamp), movies.dat, users.dat,
# README (GroupLens's terms: the data is not to be redistributed, so it is fetched, never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-ml-100k}"
dest="data/$name"
case "$name" in
  ml-100k) files=(ml-100k.inter ml-100k.item ml-100k.user) ;;
  ml-1m) files=(ratings.dat movies.dat users.dat README) ;;
  *) echo "fetch-data: unknown dataset '$name' (known: ml-100k, ml-1m)" >&2; exit 2 ;;
esac
if [ -s "$dest/${files[0]}" ]; then exit 0; fi
mkdir -p "$dest"
if [ "$name" = ml-1m ]; then
  python3 - "$dest" "${files[@]}" <<'PY'
import hashlib, io, sys, tarfile, urllib.request, zipfile
dest, names = sys.argv[1], sys.argv[2:]
url = ("https://files.pythonhosted.org/packages/59/14/077b13f8fb29d6a7ddc4d7b4d1bdf7cae87578e0a011e7a461d0c0860cf3/"
       "scikit_rec-0.3.0.tar.gz")
print("fetch-data: downloading the scikit-rec 0.3.0 source archive from PyPI (48 MB) for ml-1m", file=sys.stderr)
archive = urllib.request.urlopen(url, timeout=300).read()
expected = "949b0ea7b79047b85e49d08466c49837fb74dd1f7d61ce6557f4caf6d680f7fd"
if hashlib.sha256(archive).hexdigest() != expected:
    sys.exit(f"fetch-data: {url}: sha256 is not {expected}")
with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
    zipped = tar.extractfile("scikit_rec-0.3.0/examples/data/movielens-1m/ml-1m.zip").read()
if hashlib.md5(zipped).hexdigest() != "c4d9eecfca2ab87c1945afe126590906":
    sys.exit("fetch-data: ml-1m.zip inside the archive is not GroupLens's (md5 differs)")
with zipfile.ZipFile(io.BytesIO(zipped)) as z:
    for n in names:
        with open(dest + "/" + n, "wb") as out:
            out.write(z.read("ml-1m/" + n))
PY
  echo "fetch-data: wrote ${files[*]} to $dest" >&2
  exit 0
fi
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
