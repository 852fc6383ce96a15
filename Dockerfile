# personalize-tail as a container image: built on the Swift toolchain image, run on a slim Debian with the
# statically linked binary (it needs only the C/C++ runtime, zlib, jemalloc and the CA certificates at run time).
# The build steps are the README's Install steps. Images cannot be built on the project's development machines (no
# container engine): this recipe is checked by reading, and its binary by .ci/check-static-binary.
#
#   docker build -t personalize-tail .
#   docker run -v /var/log/app:/var/log/app:ro -v personalize-tail-state:/var/lib/personalize-tail \
#       -v $PWD/config.json:/etc/personalize-tail/config.json:ro personalize-tail
#
# The HEALTHCHECK asks the agent's /health, so the config needs "metrics": {"listen": "127.0.0.1:9464"} (another
# port: set PERSONALIZE_TAIL_HEALTH_PORT; without metrics, run with --no-healthcheck). Kubernetes ignores it and
# uses the probes of examples/deploy/daemonset.yaml.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g-dev libjemalloc2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --static-swift-stdlib --product personalize-tail \
    && install -m 0755 .build/release/personalize-tail /usr/local/bin/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g libjemalloc2 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 personalize-tail \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/personalize-tail --no-create-home \
        --shell /usr/sbin/nologin personalize-tail \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/personalize-tail \
    && install -d -m 0755 /etc/personalize-tail
COPY --from=build /usr/local/bin/personalize-tail /usr/local/bin/personalize-tail
COPY examples/deploy/container-health /usr/local/bin/personalize-tail-health
USER 10001:10001
VOLUME /var/lib/personalize-tail
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/usr/local/bin/personalize-tail-health"]
ENTRYPOINT ["/usr/local/bin/personalize-tail"]
CMD ["run", "--config", "/etc/personalize-tail/config.json"]
