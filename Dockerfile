FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
RUN DJANGO_ENV=production SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789abcdef \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput
USER nobody
EXPOSE 8000
# -v 0: no plain-text access log from Daphne; the app writes one JSON line per request.
CMD ["python", "-m", "config.server", "-v", "0", "--proxy-headers", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
