#!/bin/sh
# Rebuild the studio's editor bundle (hundred/web/studio/static/studio.js, .css, .LICENSES.txt)
# from the lockfile: the exact packages package-lock.json names, then esbuild. Commit the result.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs "$@"
