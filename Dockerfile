# The operator's image: the statically linked manager on an empty base, with the
# CA certificates that TLS to the vendor APIs needs, running as a non-root user
# (config/manager sets runAsNonRoot). 'make docker-build' builds bin/manager-linux
# first; building outside the image keeps the module cache out of it.
FROM alpine:3.22 AS certs

FROM scratch
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY bin/manager-linux /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
