# sseaudit container image: a static binary on a distroless base, run as
# an unprivileged user. The deploy/kubernetes examples name this image.
#   docker build -t ghcr.io/sseaudit/sseaudit:latest --build-arg VERSION=$(git describe --always --dirty) .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
# Static (no cgo), reproducible (trimpath), stamped with the version every
# report names.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sseaudit ./cmd/sseaudit

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sseaudit /usr/local/bin/sseaudit
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/sseaudit"]
