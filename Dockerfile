# One image for the API and every worker: `sms-channels serve`, `sms-channels worker …`.
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
USER sms
ENV HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json
EXPOSE 8000
ENTRYPOINT ["sms-channels"]
CMD ["serve"]
