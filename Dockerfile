# Koe server image: a static Go binary on Debian slim with the speech engine
# (espeak-ng) and encoders (lame, opusenc). Runs as a non-root user.
#   docker build -t koe .
#   docker run -p 8080:8080 -v koe-data:/data koe
#   docker run --rm -e DATABASE_URL=… koe migrate

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/koe .

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng lame opus-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin koe \
 && mkdir -p /data/blobs && chown -R koe /data
COPY --from=build /out/koe /usr/local/bin/koe
USER koe
ENV KOE_ADDR=:8080 KOE_DATA_DIR=/data KOE_ENV=production
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s CMD ["koe", "healthcheck"]
ENTRYPOINT ["koe"]
CMD ["serve"]
