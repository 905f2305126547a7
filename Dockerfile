# syntax=docker/dockerfile:1
# The vigil image with a container engine: docker build -t ghcr.io/vigil-operator/vigil:dev .
# Without one, `make image` builds the same layout (hack/image).

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
# Set by BuildKit from --platform; the build defaults to linux/amd64 without them.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
# As the Makefile does: go.sum is completed by the build, not by hand.
ENV GOFLAGS=-mod=mod
WORKDIR /src
# Dependencies first, so source edits reuse the module download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
# Static (no cgo: the image has no libc), no local paths (-trimpath), no
# symbol tables (-s -w); cross-compiled for the target platform.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH:-amd64} \
    go build -trimpath -ldflags "-s -w -X github.com/vigil-operator/vigil/internal/version.Version=${VERSION}" \
    -o /out/vigil ./cmd

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), no
# shell and no package manager.
FROM gcr.io/distroless/static:nonroot
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Vigil: compliance capture for chat channels, as a Kubernetes operator" \
      org.opencontainers.image.source="https://github.com/vigil-operator/vigil"
COPY --from=build --chmod=0755 /out/vigil /vigil
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/vigil"]
