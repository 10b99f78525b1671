# The overflow router image for EKS (`eks.router_image`): llama-infra installed from this checkout, non-root.
#   docker build -f docker/router.Dockerfile -t <account>.dkr.ecr.<region>.amazonaws.com/llama-infra-router:<tag> .
#   docker push <account>.dkr.ecr.<region>.amazonaws.com/llama-infra-router:<tag>
# then set eks.router_image in the spec. The Deployment runs `llama-infra router --config /etc/llama-infra/router.yaml`.
FROM python:3.11.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY llama_infra ./llama_infra
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt ".[router]"

FROM python:3.11.11-slim
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HOME=/tmp
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["llama-infra", "router"]
CMD ["--config", "/etc/llama-infra/router.yaml"]
