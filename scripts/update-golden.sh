#!/usr/bin/env bash
# Regenerates Tests/PipelineTests/Golden/examples.jsonl, the requests the bundled example (config.json over
# examples/) must produce, after a change to them that is intended. ExamplesGoldenTests only compares; review the
# diff (git diff Tests/PipelineTests/Golden) before committing it.
#
# The file holds one line per request, "Operation body", taken from the dry run: its lines are
# {"operation":"PutEvents","path":"/events","body":{...}} with the body's bytes as they would be sent.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --product personalize-tail
binary="$(swift build --show-bin-path)/personalize-tail"
golden=Tests/PipelineTests/Golden/examples.jsonl

"$binary" run --once --dry-run --config config.json \
    | sed -E 's/^\{"operation":"([A-Za-z]+)","path":"[^"]*","body":(.*)\}$/\1 \2/' > "$golden.tmp"
if grep -q '^{' "$golden.tmp"; then
    echo "update-golden: a dry-run line did not have the expected shape; $golden left as it was" >&2
    rm -f "$golden.tmp"
    exit 1
fi
mv "$golden.tmp" "$golden"
echo "$golden: $(wc -l < "$golden") requests"
