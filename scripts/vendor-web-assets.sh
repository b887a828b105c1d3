#!/usr/bin/env bash
# Vendors the web UI's JavaScript from the npm registry at pinned versions, so that the server needs no
# CDN: `npm pack` fetches each package's published tarball (checked by npm against its integrity hash),
# and the one built file the pages load is copied, with its licence, into static/vendor/.
# Run it again after changing a version below, and update static/vendor/README.md to match.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11
CHARTJS=4.5.1
vendor=src/modelsteward/server/_web/static/vendor
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX" "chart.js@$CHARTJS" >/dev/null)
mkdir -p "$work/htmx" "$work/chartjs" "$vendor"
tar -xzf "$work/htmx.org-$HTMX.tgz" -C "$work/htmx"
tar -xzf "$work/chart.js-$CHARTJS.tgz" -C "$work/chartjs"
cp "$work/htmx/package/dist/htmx.min.js" "$vendor/htmx-$HTMX.min.js"
cp "$work/htmx/package/LICENSE" "$vendor/htmx-$HTMX.LICENSE"
cp "$work/chartjs/package/dist/chart.umd.min.js" "$vendor/chart-$CHARTJS.umd.min.js"
cp "$work/chartjs/package/LICENSE.md" "$vendor/chart-$CHARTJS.LICENSE.md"
(cd "$vendor" && sha256sum "htmx-$HTMX.min.js" "chart-$CHARTJS.umd.min.js")
