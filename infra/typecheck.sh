#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/ offline: `sst install` fetches only npm packages (the AWS
# provider's types and SST's component sources) into .sst/platform, and never Pulumi or Bun with
# these variables set, so this runs where `sst deploy` cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

# SST_CLI lets a checkout without the devDependency point at an sst installed elsewhere.
sst_cli="${SST_CLI:-node_modules/.bin/sst}"

# Reinstall when the platform is missing, was cut short (no tsc), or belongs to another sst version:
# stale component types would check the config against the wrong API.
want=""
if [ -x "$sst_cli" ]; then
  want=$(node -p 'require(process.argv[1]).version' "$(dirname "$(readlink -f "$sst_cli")")/../package.json")
fi
have=$(cat .sst/platform/version 2>/dev/null || true)
if [ ! -f .sst/platform/config.d.ts ] || [ ! -x .sst/platform/node_modules/.bin/tsc ] ||
  { [ -n "$want" ] && [ "$want" != "$have" ]; }; then
  if [ -z "$want" ]; then
    echo "infra/typecheck.sh: $sst_cli not found (npm install, or set SST_CLI)" >&2
    exit 1
  fi
  SST_NO_BUN=1 SST_SKIP_DEPENDENCY_CHECK=1 SST_TELEMETRY_DISABLED=1 "$sst_cli" install --stage ci
fi

# SST's own tsc, matching the TypeScript its component sources are written for.
status=0
.sst/platform/node_modules/.bin/tsc -p tsconfig.infra.json || status=$?
if [ "$status" -eq 0 ]; then result=passed; else result=failed; fi
echo "infra typecheck $result in $(($(date +%s) - start)) s"
exit "$status"
