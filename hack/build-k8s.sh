#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver, etcd) and kubectl from the Go
# module proxy into bin/k8s/, once. Usage: hack/build-k8s.sh [kube-apiserver|etcd|kubectl]...
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
tools="$root/hack/tools"
k8s_version=v1.36.3
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"

declare -A pkg=(
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [etcd]=go.etcd.io/etcd/server/v3
)

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(etcd kube-apiserver)

mkdir -p "$out"
for t in "${targets[@]}"; do
  [ -n "${pkg[$t]:-}" ] || { echo "unknown binary: $t" >&2; exit 2; }
  if [ -x "$out/$t" ]; then
    echo "bin/k8s/$t: present"
    continue
  fi
  echo "bin/k8s/$t: building ${pkg[$t]} (first build takes several minutes on 2 cores)..."
  start=$(date +%s)
  # -v prints each package as it compiles: the progress output.
  (cd "$tools" && CGO_ENABLED=0 go build -v -trimpath -ldflags "$ldflags" -o "$out/$t.tmp" "${pkg[$t]}") 2>&1 |
    awk '{n++; if (n % 100 == 0) {printf "  %d packages compiled (last: %s)\n", n, $0; fflush()}}'
  mv "$out/$t.tmp" "$out/$t"
  echo "bin/k8s/$t: built in $(( $(date +%s) - start ))s"
done
