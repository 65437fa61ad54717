# Multi-stage build of chatd (and the tools) on Debian 12, the same packages as
# scripts/bootstrap. Used by compose/docker-compose.yml.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake ninja-build g++ pkg-config \
      libboost-dev libboost-system-dev librdkafka-dev libhiredis-dev libpqxx-dev \
      nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libsodium-dev libssl-dev \
      libspdlog-dev libfmt-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHAT_BUILD_TESTS=OFF \
 && cmake --build /build --target chatd \
 && strip /build/apps/chatd/chatd

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends librdkafka1 libhiredis0.14 libpqxx-6.4 libsodium23 \
      libssl3 libspdlog1.10 libfmt9 libboost-system1.74.0 libjemalloc2 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin chat
COPY --from=build /build/apps/chatd/chatd /usr/local/bin/chatd
USER chat
EXPOSE 8080 61613
HEALTHCHECK --interval=5s --timeout=3s --retries=12 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/chatd"]
