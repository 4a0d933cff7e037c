#!/usr/bin/env bash
# Copies the example payloads the gate's tests use from @octokit/webhooks-examples
# (installed by `npm install`) into tests/fixtures/events/.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import json
d = json.load(open("node_modules/@octokit/webhooks-examples/api.github.com/index.json"))
by = {e["name"]: e["examples"] for e in d}
def first(name, pred):
    return next(x for x in by[name] if pred(x))
def save(name, obj):
    with open(f"tests/fixtures/events/{name}.json", "w") as f:
        json.dump(obj, f, indent=2)
for action in ["opened", "synchronize", "reopened", "labeled", "unlabeled"]:
    save(f"pull_request.{action}", first("pull_request", lambda x: x.get("action") == action))
save("push.tag", first("push", lambda x: x["ref"].startswith("refs/tags/")))
save("push.branch", first("push", lambda x: x["ref"].startswith("refs/heads/")))
save("workflow_run.completed", first("workflow_run", lambda x: x["action"] == "completed" and x["workflow_run"]["pull_requests"]))
save("workflow_dispatch", by["workflow_dispatch"][0])
save("issues.opened", first("issues", lambda x: x.get("action") == "opened"))
PY
