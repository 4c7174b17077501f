# Encore service image. Build: docker build -t encore .
FROM python:3.11-slim

# The CPU build of torch keeps the image small; override for a GPU build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

WORKDIR /app
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY consumer ./consumer
COPY producer ./producer
COPY recommender ./recommender
COPY schemas ./schemas
COPY embedded ./embedded
RUN pip install --no-cache-dir . && useradd --system --uid 10001 encore
USER encore

# In a container the metrics endpoint must listen beyond loopback.
ENV ENCORE_METRICS_HOST=0.0.0.0 ENCORE_ARTIFACTS=/app/artifacts
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=2)" || exit 1
ENTRYPOINT ["python", "-m", "consumer"]
