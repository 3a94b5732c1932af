FROM python:3.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CONSOLE_VAR_DIR=/var/lib/console
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY manage.py ./
COPY console ./console
COPY templates ./templates
COPY static ./static
RUN mkdir -p /var/lib/console && SECRET_KEY=build python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["gunicorn", "console.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
