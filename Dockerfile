# syntax=docker/dockerfile:1
# The shopsync operator image: one static-ish binary (glibc, rustls; no
# OpenSSL) on distroless, running as a non-root user.
#
#   docker build -t shopsync:dev .
#   docker run --rm shopsync:dev version

# Builder: the toolchain the crate needs (rust-version 1.94 or newer), on the
# same Debian release as the runtime image so glibc matches.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and compiled dependencies between builds;
# the binary is copied out because the target cache is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin shopsync \
 && cp target/release/shopsync /usr/local/bin/shopsync

# Runtime: glibc, libgcc and CA certificates (/etc/ssl/certs), no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/shopsync /usr/local/bin/shopsync
# distroless's "nonroot" user; the Helm chart runs as the same IDs.
USER 65532:65532
# /metrics, /healthz and /readyz of `shopsync run`.
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/shopsync"]
CMD ["run"]
