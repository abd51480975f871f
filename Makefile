# Image URL to use all building/pushing image targets
IMG ?= chatgroup-operator:latest

# Tool binaries and versions. Versions are pinned; tools install into ./bin.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.21.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)

# envtest binaries (kube-apiserver, etcd) are built from source by hack/build-k8s.sh;
# the version is the k8s.io/kubernetes release pinned in hack/tools/go.mod.
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s
ENVTEST_BINARIES = $(ENVTEST_ASSETS)/kube-apiserver $(ENVTEST_ASSETS)/etcd

GO_TEST_ARGS ?= -race
# Integration tests talk to local servers only.
TEST_ENV = HTTP_PROXY= HTTPS_PROXY= http_proxy= https_proxy= KUBEBUILDER_ASSETS=$(ENVTEST_ASSETS)

# Setting SHELL to bash allows bash commands to be executed by recipes.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the API types and controller markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: test
test: manifests generate fmt vet envtest ## Run unit and envtest integration tests, then the end-to-end test (builds the envtest binaries first if missing).
	$(TEST_ENV) go test $(GO_TEST_ARGS) ./... -coverprofile cover.out
	$(MAKE) fuzz
	$(MAKE) e2e

# How long each fuzz target runs in 'make fuzz' (their seed corpora run in every go test).
FUZZTIME ?= 3s

.PHONY: fuzz
fuzz: ## Fuzz the member diff and batching for FUZZTIME each.
	go test ./internal/vendors -run '^$$' -fuzz '^FuzzMemberChanges$$' -fuzztime $(FUZZTIME)
	go test ./internal/vendors -run '^$$' -fuzz '^FuzzBatches$$' -fuzztime $(FUZZTIME)

.PHONY: e2e
e2e: envtest kubectl manager ## Drive bin/manager with kubectl, as a user would, against a local control plane and the vendor simulators.
	$(TEST_ENV) go test -tags e2e ./test/e2e -count=1 -timeout 5m -v

.PHONY: bench
bench: envtest build ## Benchmark each vendor (BENCH_N, BENCH_M; see hack/bench) and write docs/benchmarks.md; not part of make test.
	go build -o bin/benchmark ./hack/bench
	$(TEST_ENV) bin/benchmark

.PHONY: playground
playground: envtest kubectl manager ## Run the operator locally against the vendor simulators with config/samples (Ctrl-C stops it).
	go build -o bin/playground ./hack/playground
	$(TEST_ENV) bin/playground

.PHONY: verify
verify: manifests generate fmt ## Fail if generated files, formatting or go.mod are stale.
	go mod tidy
	cd hack/tools && go mod tidy
	@if [ -n "$$(git status --porcelain -- . ':!bin' ':!cover.out')" ]; then \
		echo "Generated files, formatting or go.mod are out of date; run 'make verify' and commit:"; \
		git status --porcelain -- . ':!bin' ':!cover.out'; git diff --stat; exit 1; \
	fi

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager main.go

.PHONY: manager
manager: ## Build bin/manager only, without regenerating code (fast when nothing changed).
	go build -o bin/manager main.go

.PHONY: docker-build
docker-build: ## Build the image $(IMG) from a static linux manager (set GOARCH for another architecture).
	CGO_ENABLED=0 GOOS=linux go build -trimpath -o bin/manager-linux main.go
	docker build -t $(IMG) .

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in ~/.kube/config (or KUBECONFIG).
	go run ./main.go

.PHONY: install
install: manifests ## Install the CRDs into the cluster in ~/.kube/config.
	kubectl apply --server-side -f config/crd/bases

##@ Dependencies

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into ./bin.
$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)
	ln -sf $(notdir $(CONTROLLER_GEN)) $(LOCALBIN)/controller-gen

.PHONY: envtest
envtest: $(ENVTEST_BINARIES) ## Build kube-apiserver and etcd for envtest into bin/k8s (once; several minutes).
$(ENVTEST_BINARIES) &:
	hack/build-k8s.sh etcd kube-apiserver

.PHONY: kubectl
kubectl: $(ENVTEST_ASSETS)/kubectl ## Build kubectl into bin/k8s.
$(ENVTEST_ASSETS)/kubectl:
	hack/build-k8s.sh kubectl
