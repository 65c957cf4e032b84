# The model server image of docker-compose.yml's `model-server` service (profile "serving"):
# mltrail with the serving extra only (no database drivers), following the registry.
# For a self-contained image with the model baked in, use `mltrail models dockerfile`.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY client client
COPY backend backend
RUN pip install --no-cache-dir ".[serving]" && useradd --create-home --uid 10001 model
USER model
ENV MLTRAIL_MODEL_CACHE_DIR=/home/model/.cache/mltrail-models
EXPOSE 5001
CMD ["mltrail", "models", "serve", "models:/Churn/Production", "--host", "0.0.0.0", "--port", "5001"]
