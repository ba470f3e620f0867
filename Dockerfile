FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY router router
COPY channels channels
COPY rules rules
COPY workers workers
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8080
