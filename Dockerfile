# Container image for Cloud Run, Kubernetes or any Docker host: docs/DEPLOY.md.
#   docker build -t http-signaling . && docker run -p 8080:8080 http-signaling
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 --home-dir /app --no-create-home app
USER app

EXPOSE 8080
# Same command as the Procfile; gunicorn.conf.py reads PORT, WEB_CONCURRENCY, ...
CMD ["gunicorn", "main:app"]
