#!/usr/bin/env bash
# pip-audit against exactly the versions the project installs, dev tools too:
# `uv export` resolves pyproject.toml, whose exact pins (direct dependencies and
# [tool.uv] constraint-dependencies) fix every version. uv.lock is not
# committed; uv export writes one locally if it is missing.
# Known vulnerabilities fail CI. If the advisory database cannot be reached
# (no network, or an index mirror without PyPI's JSON API) the packages come
# back "skipped": this step then says so loudly and does not fail, because
# it has nothing to judge.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
uv export --quiet --format requirements-txt --no-hashes --no-emit-project > "$work/requirements.txt"
status=0
timeout 600 uvx --quiet --from "pip-audit==2.10.1" pip-audit --disable-pip --no-deps \
  -r "$work/requirements.txt" -f json -o "$work/audit.json" >/dev/null 2>"$work/stderr" || status=$?
if [ ! -s "$work/audit.json" ]; then
  echo "pip-audit could not run (exit $status); NOT CHECKED:"
  tail -5 "$work/stderr"
  exit 0
fi
python3 - "$work/audit.json" <<'PY'
import json, sys
deps = json.load(open(sys.argv[1]))["dependencies"]
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if "skip_reason" in d]
audited = len(deps) - len(skipped)
for d in vulnerable:
    ids = ", ".join(v["id"] for v in d["vulns"])
    print(f"VULNERABLE {d['name']} {d['version']}: {ids}")
print(f"pip-audit: {audited} audited, {len(skipped)} skipped, {len(vulnerable)} vulnerable")
if audited == 0:
    print("The advisory database was not reachable: dependencies NOT CHECKED (not failing).")
sys.exit(1 if vulnerable else 0)
PY
