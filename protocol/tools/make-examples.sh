#!/usr/bin/env bash
# Regenerates protocol/examples/ (golden JSON files and merge vectors) by running the merge
# engine of Sources/DoorstepCore (MergeEngine over MemoryMergeStore).
#
#   protocol/tools/make-examples.sh           rewrite protocol/examples/
#   protocol/tools/make-examples.sh --check   regenerate into a temporary folder and fail if
#                                             anything differs from protocol/examples/
#
# The generator is the package's `make-examples` target (protocol/tools/make-examples/).
# Regenerated files change only when the merge rules or the wire format change: review
# every difference before committing it, since these files are what the tests hold the
# code to.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$root" && swift build --product make-examples >"$work/build.log" 2>&1) || { cat "$work/build.log"; exit 1; }
binary="$(cd "$root" && swift build --product make-examples --show-bin-path)/make-examples"

if [[ "${1:-}" == "--check" ]]; then
    mkdir -p "$work/out"
    "$binary" "$work/out" >/dev/null
    if diff -r "$work/out" "$root/protocol/examples" --exclude=README.md --exclude=canonical-json.json; then
        echo "protocol/examples/ is up to date"
    else
        echo "protocol/examples/ differs from what the merge engine produces (run protocol/tools/make-examples.sh)" >&2
        exit 1
    fi
else
    "$binary" "$root/protocol/examples" >/dev/null
    echo "wrote $root/protocol/examples"
fi
