# Encore service image (also runs the HTTP API: `python -m web`). Build: docker build -t encore .
# `pip install .` is the serving install: no torch, no scikit-learn, no test harness. Train
# models elsewhere (`pip install 'encore[train]'`, `python -m recommender train`) and mount the
# artifacts at /app/artifacts. `--build-arg EXTRAS=audio` adds audio uploads (librosa: about
# 150 MB more); docker-compose.yml builds the web image with it.
FROM python:3.11-slim
ARG EXTRAS=

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY consumer ./consumer
COPY producer ./producer
COPY recommender ./recommender
COPY schemas ./schemas
COPY embedded ./embedded
COPY web ./web
COPY audio ./audio
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}" && useradd --system --uid 10001 encore
USER encore

# In a container the metrics endpoint must listen beyond loopback.
ENV ENCORE_METRICS_HOST=0.0.0.0 ENCORE_ARTIFACTS=/app/artifacts
EXPOSE 9100 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=2)" || exit 1
ENTRYPOINT ["python", "-m", "consumer"]
