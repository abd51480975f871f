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

# helm and the image tool are Go modules of their own under hack/ (their
# dependencies are newer than the operator's); helm's version is the one pinned
# in hack/helm/go.mod.
HELM_VERSION := $(shell sed -n 's|.*helm\.sh/helm/v4 \(v[0-9.]*\).*|\1|p' hack/helm/go.mod)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
KUBECTL ?= $(ENVTEST_ASSETS)/kubectl
CHART ?= charts/chatgroup-operator

# The image and the release: make image, make release VERSION=x.y.z. The image
# carries the commit and its time, so the same commit gives the same digest.
VERSION ?= dev
IMAGE_REPO ?= chatgroup-operator
IMAGE_SOURCE ?= https://github.com/chatgroup-operator/chatgroup-operator
IMAGE_DIR ?= $(LOCALBIN)/image
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
DIST ?= dist

# The manager is built as the image builds it (static, -trimpath), so the two
# share the build cache: 'make test' then compiles the operator once for both.
BUILD_MANAGER = CGO_ENABLED=0 go build -trimpath -buildvcs=false -o bin/manager .
# The kubectl plugin (kubectl chatgroup), as make release builds it.
BUILD_PLUGIN = CGO_ENABLED=0 go build -trimpath -buildvcs=false -o bin/kubectl-chatgroup ./cmd/kubectl-chatgroup

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
test: manifests generate fmt vet envtest chart helm kubectl ## Run unit and envtest integration tests (the chart's too), then the end-to-end test, the image's test and the playground's.
	$(TEST_ENV) go test $(GO_TEST_ARGS) ./... -coverprofile cover.out
	$(MAKE) fuzz
	$(MAKE) e2e
	$(MAKE) test-chart
	$(MAKE) test-image
	$(MAKE) test-playground

# How long each fuzz target runs in 'make fuzz' (their seed corpora run in every go test).
FUZZTIME ?= 3s

.PHONY: fuzz
fuzz: ## Fuzz the member diff and batching for FUZZTIME each.
	go test ./internal/vendors -run '^$$' -fuzz '^FuzzMemberChanges$$' -fuzztime $(FUZZTIME)
	go test ./internal/vendors -run '^$$' -fuzz '^FuzzBatches$$' -fuzztime $(FUZZTIME)

.PHONY: e2e
e2e: envtest kubectl helm manager plugin ## Drive bin/manager with kubectl and bin/kubectl-chatgroup, as a user would, against a local control plane and the vendor simulators.
	$(TEST_ENV) go test -tags e2e ./test/e2e -count=1 -timeout 5m -v

.PHONY: test-chart
test-chart: chart helm kubectl ## Lint the chart and check its templates, value by value, and that its default render is config/default.
	$(HELM) lint --strict $(CHART)
	go test ./test/chart -count=1

.PHONY: test-image
test-image: image ## Build the image, read it back and run its manager (--help) from the unpacked layer.
	cd hack/image && IMAGE_DIR=$(IMAGE_DIR) go test -count=1 ./...

.PHONY: test-playground
test-playground: envtest kubectl manager plugin ## Stop the playground every way its terminal can (Ctrl-C, SIGTERM, a closed pipe, its parent killed) and check that nothing it started is left.
	$(TEST_ENV) go test -tags e2e ./hack/playground -count=1 -timeout 5m

.PHONY: bench
bench: envtest build ## Benchmark each vendor (BENCH_N, BENCH_M; see hack/bench) and write docs/benchmarks.md; not part of make test.
	go build -o bin/benchmark ./hack/bench
	$(TEST_ENV) bin/benchmark

.PHONY: playground
playground: envtest kubectl manager plugin ## Run the operator locally against the vendor simulators with config/samples (Ctrl-C stops it).
	go build -o bin/playground ./hack/playground
	$(TEST_ENV) bin/playground

.PHONY: verify
verify: manifests generate fmt chart helm kubectl ## Fail if generated files, formatting or go.mod are stale, or the chart and config/ differ.
	go mod tidy
	cd hack/tools && go mod tidy
	cd hack/helm && go mod tidy
	cd hack/image && go mod tidy
	go test ./test/chart -count=1 -run '^TestChartMatchesConfig$$'
	@if [ -n "$$(git status --porcelain -- . ':!bin' ':!cover.out' ':!dist')" ]; then \
		echo "Generated files, formatting or go.mod are out of date; run 'make verify' and commit:"; \
		git status --porcelain -- . ':!bin' ':!cover.out' ':!dist'; git diff --stat; exit 1; \
	fi

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and the kubectl plugin (bin/kubectl-chatgroup).
	$(BUILD_MANAGER)
	$(BUILD_PLUGIN)

.PHONY: manager
manager: ## Build bin/manager only, without regenerating code (fast when nothing changed).
	$(BUILD_MANAGER)

.PHONY: plugin
plugin: ## Build the kubectl plugin only: bin/kubectl-chatgroup (put bin/ on PATH for 'kubectl chatgroup').
	$(BUILD_PLUGIN)

.PHONY: docker-build
docker-build: ## With a Docker engine: build the image $(IMG) for one architecture (GOARCH); make image needs no engine.
	CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags=-s\ -w -o bin/manager-linux .
	docker build -t $(IMG) .

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in ~/.kube/config (or KUBECONFIG).
	go run ./main.go

.PHONY: install
install: manifests ## Install the CRDs into the cluster in ~/.kube/config.
	kubectl apply --server-side -f config/crd/bases

##@ Distribution

.PHONY: chart
chart: manifests ## Copy the CRDs and the manager's RBAC rules from config/ into the chart.
	cp config/crd/bases/*.yaml $(CHART)/crds/
	{ echo "# Generated from config/rbac/role.yaml by 'make chart'; do not edit."; \
	  sed -n '/^rules:/,$$p' config/rbac/role.yaml; } > $(CHART)/files/manager-role-rules.yaml

.PHONY: image
image: ## Build the image without a container daemon: linux/amd64 and linux/arm64 in one index, as an OCI layout and a tarball in bin/image (VERSION, IMAGE_REPO).
	cd hack/image && go run . -root $(CURDIR) -out $(IMAGE_DIR) -version $(VERSION) -repository $(IMAGE_REPO) \
		-source $(IMAGE_SOURCE) -revision $(REVISION) -created $(SOURCE_DATE_EPOCH)

# The kubectl plugin's platforms, built by make release.
PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

.PHONY: release
release: chart helm kubectl ## Write the release to dist/: install.yaml, the packaged chart, the image tarball, kubectl-chatgroup, SHA256SUMS (VERSION=x.y.z).
	@echo "$(VERSION)" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$$' || { echo "usage: make release VERSION=x.y.z (got '$(VERSION)')" >&2; exit 2; }
	@if [ -z "$(ALLOW_DIRTY)" ] && [ -n "$$(git status --porcelain -- . ':!bin' ':!dist' ':!cover.out')" ]; then \
		echo "The tree has uncommitted changes, which the image would hold under the label of commit $(REVISION):" >&2; \
		git status --porcelain -- . ':!bin' ':!dist' ':!cover.out' >&2; \
		echo "commit them, release from a clean clone, or set ALLOW_DIRTY=1" >&2; exit 2; \
	fi
	$(MAKE) image VERSION=$(VERSION)
	rm -rf $(DIST) $(LOCALBIN)/install && mkdir -p $(DIST) $(LOCALBIN)/install
	printf 'resources:\n- ../../config/default\nimages:\n- name: chatgroup-operator\n  newName: %s\n  newTag: "%s"\n' \
		'$(IMAGE_REPO)' '$(VERSION)' > $(LOCALBIN)/install/kustomization.yaml
	{ echo "# chatgroup-operator $(VERSION): kubectl apply --server-side -f install.yaml"; \
	  $(KUBECTL) kustomize $(LOCALBIN)/install; } > $(DIST)/install.yaml
	$(HELM) package $(CHART) --version $(VERSION) --app-version $(VERSION) -d $(DIST)
	cp $(IMAGE_DIR)/chatgroup-operator.tar $(DIST)/chatgroup-operator-image-$(VERSION).tar
	cp $(IMAGE_DIR)/digest $(DIST)/chatgroup-operator-image-$(VERSION).digest
	for p in $(PLUGIN_PLATFORMS); do \
		echo "Building kubectl-chatgroup for $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -buildvcs=false -ldflags=-s\ -w \
			-o $(DIST)/kubectl-chatgroup-$(VERSION)-$${p%/*}-$${p#*/} ./cmd/kubectl-chatgroup; \
	done
	cd $(DIST) && sha256sum $$(ls | grep -v '^SHA256SUMS$$') > SHA256SUMS
	@echo "Released $(VERSION) into $(DIST)/ (image $(IMAGE_REPO):$(VERSION)@$$(cat $(IMAGE_DIR)/digest)):"; ls -l $(DIST)

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

.PHONY: helm
helm: $(HELM) ## Build helm into ./bin from hack/helm (about 2 minutes on 2 cores, once).
$(HELM): | $(LOCALBIN)
	cd hack/helm && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)" \
		-o $(HELM) helm.sh/helm/v4/cmd/helm
	ln -sf $(notdir $(HELM)) $(LOCALBIN)/helm

.PHONY: kubectl
kubectl: $(ENVTEST_ASSETS)/kubectl ## Build kubectl into bin/k8s.
$(ENVTEST_ASSETS)/kubectl:
	hack/build-k8s.sh kubectl
