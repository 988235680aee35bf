# pushgate image: a static Go binary on distroless (CA certificates, tzdata,
# no shell), running as the unprivileged "nonroot" user.
#
# The binary is built by scripts/build.sh, the same command CI runs, so the
# image holds what was tested (scripts_test.go keeps the two tied together).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN bash scripts/build.sh /out/pushgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pushgate /pushgate
USER nonroot:nonroot
ENTRYPOINT ["/pushgate"]
