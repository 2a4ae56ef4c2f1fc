# Rolecall as a container: a static binary on a distroless base (CA
# certificates included, so https webhooks verify; no shell), run as the
# non-root user, data in the /data volume.
#
#   docker build -t rolecall --build-arg VERSION=$(git describe --always) .
#   docker run -p 8080:8080 -v rolecall-data:/data \
#       -e ROLECALL_ADMIN_TOKEN=… -e ROLECALL_PUBLIC_URL=https://rolecall.example.com rolecall
#
# Every `rolecall serve` flag has a ROLECALL_* environment twin (README).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rolecall ./cmd/rolecall \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rolecall /usr/local/bin/rolecall
# The volume's mount point belongs to the user the server runs as.
COPY --from=build --chown=65532:65532 /out/data /data
ENV ROLECALL_ADDR=0.0.0.0:8080 \
    ROLECALL_DATA=/data
VOLUME /data
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
    CMD ["/usr/local/bin/rolecall", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/rolecall"]
CMD ["serve"]
