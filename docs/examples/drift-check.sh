#!/bin/sh
# Fail when a new model explains a fixed image set differently from the old one.
#
#   docs/examples/drift-check.sh OLD_MODEL NEW_MODEL IMAGE_DIR [OUT]
#
# OLD_MODEL, NEW_MODEL: tfjs model folders (or their model.json). IMAGE_DIR: the fixed image set
# (*.jpg, *.jpeg, *.png, *.webp, searched recursively). OUT (default igx-drift-check): old/, new/ and
# drift/ go there. Exit status: igx drift's (0 no drift, 1 drift, 2 unusable input), or explain's when
# an image could not be explained. Set IGX to run another igx, e.g. IGX="npx igx".
set -eu

if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then
  echo "usage: $0 OLD_MODEL NEW_MODEL IMAGE_DIR [OUT]" >&2
  exit 2
fi
old_model=$1
new_model=$2
images=$3
out=${4:-igx-drift-check}
igx=${IGX:-igx}

# The same settings for both runs: the config guard refuses runs explained differently. --save-raw
# lets drift compare magnitude grids pooled from the full-resolution attributions.
explain_flags="--save-raw --quiet"

list=$(mktemp)
trap 'rm -f "$list"' EXIT
find "$images" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) | LC_ALL=C sort >"$list"
if [ ! -s "$list" ]; then
  echo "$0: no images under $images" >&2
  exit 2
fi

rm -rf "$out/old" "$out/new"
# xargs may split a long list into several explain calls; each writes into the same folder.
# shellcheck disable=SC2086
tr '\n' '\0' <"$list" | xargs -0 $igx explain --model "$old_model" $explain_flags --out "$out/old"
# shellcheck disable=SC2086
tr '\n' '\0' <"$list" | xargs -0 $igx explain --model "$new_model" $explain_flags --out "$out/new"

status=0
$igx drift "$out/old" "$out/new" --out "$out/drift" || status=$?
echo "drift report: $out/drift/drift.md, $out/drift/drift.junit.xml" >&2
exit "$status"
