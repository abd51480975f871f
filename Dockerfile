# The operator's image for those who build with a Docker engine ('make
# docker-build', one architecture). 'make image' builds the same image without
# an engine, for linux/amd64 and linux/arm64 in one index, reproducibly, and is
# what make test checks and make release ships.
#
# The statically linked manager on an empty base, running as a non-root user
# (config/manager sets runAsNonRoot). It needs no CA certificate files: main.go
# compiles in golang.org/x/crypto/x509roots/fallback. 'make docker-build' builds
# bin/manager-linux first; building outside the image keeps the module cache
# out of it.
FROM scratch
COPY bin/manager-linux /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
