#!/usr/bin/env bash
# Offline validation of the deploy files (deploy/, helm/moing/). No Docker engine,
# helm binary or Envoy runs here, so:
#   - yamllint --strict over deploy/ and helm/ (the chart's Go templates excluded,
#     see .yamllint.yaml), compose's consistency (compose_check.py), and the
#     Dockerfile's stages, user and dependency skeleton (dockerfile_check.py);
#   - kubernetes-validate --strict of helm/moing/rendered/default.yaml, the rendered
#     example set of a default install, against the chart's minimum Kubernetes
#     (1.30) and a current one (1.35);
#   - the rendered set against values.yaml (rendered_matches_values.py) and Envoy's
#     bootstrap in it against Envoy's v3 protos (envoy_bootstrap.py);
#   - helm lint of the chart, and Helm's engine rendering the templates and comparing
#     them with the rendered set document by document (helm_chart.py). helm-sdkpy
#     embeds the Helm v4 library and needs Python >= 3.12: python3 itself, a
#     python3.1x on PATH or pyenv's (this project's machines have pyenv's 3.12).
#     Debian bookworm has none, and no registry here serves a CPython build, so
#     without one this check FAILS (it never passes unrun); a missing venv module
#     of Debian's python3.1x is installed (python3.1x-venv).
# Runs every check, then exits non-zero if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CHART="$ROOT/helm/moing"
RENDERED="$CHART/rendered/default.yaml"
KUBE_VERSIONS=(1.30.0 1.35.0)
HELM_VENV="$STATE/venv-helm"

ensure_python_tools yamllint==1.38.0 kubernetes-validate==1.37.0 xds-protos==1.85.0
PY="$STATE/venv/bin/python"

FAILED=()
check() { # check <name> <command...>: runs it, remembers a failure, carries on
  local name="$1"; shift
  log "deploy: $name"
  "$@" || FAILED+=("$name")
}

# From the root: .yamllint.yaml's ignore patterns are relative paths.
yamllint_deploy() { (cd "$ROOT" && "$STATE/venv/bin/yamllint" --strict -c .yamllint.yaml .yamllint.yaml deploy helm); }
check "yamllint" yamllint_deploy
check "compose consistency" "$PY" "$ROOT/scripts/checks/compose_check.py" \
  "$ROOT/deploy/compose.yaml" "$CHART/values.yaml"
check "Dockerfile stages and dependency skeleton" "$PY" "$ROOT/scripts/checks/dockerfile_check.py" "$ROOT"
for version in "${KUBE_VERSIONS[@]}"; do
  check "kubernetes-validate --strict (Kubernetes $version)" \
    "$STATE/venv/bin/kubernetes-validate" --strict --quiet -k "$version" "$RENDERED"
done
check "rendered set matches values.yaml" "$PY" "$ROOT/scripts/checks/rendered_matches_values.py" "$CHART" "$RENDERED"
check "envoy bootstrap against Envoy's v3 API" "$PY" "$ROOT/scripts/checks/envoy_bootstrap.py" "$RENDERED"

# helm-sdkpy needs Python >= 3.12: python3 itself, a python3.1x on PATH, or pyenv's.
find_python312() {
  local candidate
  for candidate in python3 python3.14 python3.13 python3.12 \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}
# A venv of Python >= 3.12 at $HELM_VENV; Debian's python3.1x gets its venv module.
helm_venv() {
  local py312 version
  [ -x "$HELM_VENV/bin/python" ] && return 0
  if ! py312="$(find_python312)"; then
    log "deploy: FAILED: helm lint needs Python >= 3.12 (helm-sdkpy); none found as python3," \
      "python3.1x or under ${PYENV_ROOT:-$HOME/.pyenv}/versions (Debian bookworm has none: install one)"
    return 1
  fi
  if ! "$py312" -m venv "$HELM_VENV" >/dev/null 2>&1; then
    rm -rf "$HELM_VENV"
    version="$("$py312" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if [[ "$py312" == /usr/bin/* ]]; then
      apt_install "python${version}-venv" || true
    fi
    if ! "$py312" -m venv "$HELM_VENV"; then
      rm -rf "$HELM_VENV"
      log "deploy: FAILED: $py312 cannot make a venv for helm-sdkpy (no venv module)"
      return 1
    fi
  fi
}
helm_sdkpy_checks() {
  helm_venv \
    && "$HELM_VENV/bin/pip" install --quiet --disable-pip-version-check helm-sdkpy==0.1.32 PyYAML==6.0.3 \
    && "$HELM_VENV/bin/python" "$ROOT/scripts/checks/helm_chart.py" "$CHART" "$RENDERED"
}
check "helm lint and Helm's rendering vs the rendered set (helm-sdkpy, Python >= 3.12)" helm_sdkpy_checks

if [ ${#FAILED[@]} -gt 0 ]; then
  failed="$(printf '%s; ' "${FAILED[@]}")"
  die "deploy checks failed: ${failed%; }"
fi
log "deploy: all checks passed"
