# The mltrail server image: the SPA built in a Node stage, served by the Python server.
FROM node:20-slim AS spa
WORKDIR /src
COPY schema.graphql codegen.scalars.json ./
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund
COPY frontend frontend
RUN cd frontend && npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY client client
COPY backend backend
RUN pip install --no-cache-dir ".[server,postgres,s3,redis]"
COPY --from=spa /src/frontend/dist /app/static
ENV MLTRAIL_STATIC_DIR=/app/static \
    MLTRAIL_DATA_DIR=/data
EXPOSE 5000
# Inside a container the server must listen beyond loopback; publish the port deliberately.
CMD ["mltrail", "server", "--host", "0.0.0.0", "--port", "5000"]
