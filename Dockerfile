# One image for the API and every worker: `sms-channels serve`, `sms-channels worker …`.

# The console (ui/): built with Node from the locked packages; only its bundle is kept.
FROM node:20-slim AS console
WORKDIR /src
COPY clients/typescript/package.json clients/typescript/package-lock.json clients/typescript/
RUN cd clients/typescript && npm ci --no-audit --no-fund
COPY ui/package.json ui/package-lock.json ui/
RUN cd ui && npm ci --no-audit --no-fund
COPY clients/typescript clients/typescript
COPY ui ui
RUN cd ui && npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY workers ./workers
COPY providers ./providers
COPY sms_channels ./sms_channels
RUN pip install -c constraints.txt . && useradd --system --uid 10001 sms
COPY --from=console /src/ui/dist ./ui/dist
USER sms
ENV HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json CONSOLE_DIR=/app/ui/dist
EXPOSE 8000
ENTRYPOINT ["sms-channels"]
CMD ["serve"]
