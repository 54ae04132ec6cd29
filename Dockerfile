# Koe server image: a static Go binary on Debian slim with the speech engines
# (espeak-ng, Flite, Festival with its HTS and diphone voices, Open JTalk, and
# Koe's helpers koe-espeak and koe-flite, which link espeak-ng's and Flite's
# libraries) and encoders (lame, opusenc), serving the web app's static build
# at /. Runs as a non-root user.
#   docker build -t koe .
#   docker run -p 8080:8080 -v koe-data:/data koe
#   docker run --rm -e DATABASE_URL=… koe migrate

FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/ ./
RUN npm ci --no-audit --no-fund && npm run generate

FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libespeak-ng-dev flite1-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/koe .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/koe-espeak ./cmd/koe-flite

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng flite festival festvox-us-slt-hts festvox-kallpc16k \
    lame opus-tools open-jtalk open-jtalk-mecab-naist-jdic ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin koe \
 && mkdir -p /data/blobs && chown -R koe /data
COPY --from=build /out/koe /out/koe-espeak /out/koe-flite /usr/local/bin/
COPY --from=web /web/.output/public /usr/share/koe/web
USER koe
ENV KOE_ADDR=:8080 KOE_DATA_DIR=/data KOE_ENV=production KOE_WEB_DIR=/usr/share/koe/web
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s CMD ["koe", "healthcheck"]
ENTRYPOINT ["koe"]
CMD ["serve"]
