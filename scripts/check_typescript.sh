#!/usr/bin/env bash
# The OpenAPI schema must give the Next.js frontend usable TypeScript types: export it, generate
# types with openapi-typescript, and type-check frontend-check/usage.ts (a typed use of the whole
# flow: generate, poll the job document, refine) and frontend-check/analytics.ts (the analytics
# report) against them. Fails on any type error.
#
# Node 20+ and npm are needed; packages come from frontend-check/package-lock.json (npm ci, offline
# cache preferred). The generated schema.yaml and schema.d.ts are build outputs, never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CHECK="$ROOT/frontend-check"

"$PYTHON" manage.py spectacular --validate --fail-on-warn --file "$CHECK/schema.yaml"

cd "$CHECK"
if [ ! -x node_modules/.bin/tsc ] || [ ! -x node_modules/.bin/openapi-typescript ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
fi
# Fields with a default are optional in requests: do not let the generator make them required.
npx --no-install openapi-typescript schema.yaml -o schema.d.ts --default-non-nullable false --silent
npx --no-install tsc --noEmit -p tsconfig.json
echo "TypeScript client types: OK"
