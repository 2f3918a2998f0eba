# One image for every process of the platform; the command picks the process:
#   python -m gateway                      (the default)
#   python -m services.enterprise | services.ticketing | services.notification
#   python -m services.supplydemand
#   python -m devtools.migrate upgrade     (the migration Job)
# Build: docker build -t gridsvc:0.1.0 .   (deploy/k8s/README.md)
#
# The base image is pinned by digest (the index digest of python:3.11-slim, every platform):
# a rebuild gets the same bytes until the pin is moved on purpose. To refresh it:
#   docker buildx imagetools inspect python:3.11-slim --format '{{json .Manifest.Digest}}'
# and replace the digest in both FROM lines (docs/operations.md, "The image").

# --- dependencies, pinned by constraints.txt, into a virtual environment -----------------
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7 AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml constraints.txt ./
# only the runtime dependencies of pyproject.toml (no test tools), at the pinned versions
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile -c constraints.txt -r requirements.txt

# --- runtime: the code and the environment, run as an unprivileged user ------------------
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
RUN groupadd --system --gid 10001 gridsvc \
    && useradd --system --uid 10001 --gid gridsvc --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin gridsvc
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY common ./common
COPY gateway ./gateway
COPY services ./services
COPY devtools ./devtools
# the gettext catalogs of every text for people (common/i18n.py), compiled here, not committed
RUN /opt/venv/bin/python -m devtools.messages compile
# bytecode compiled once here: the root filesystem is read-only at run time, so without it
# every process start compiled every module again (docs/performance.md: start measured with
# and without); the files stay root's, readable by the runtime user
RUN python -m compileall -q -j 0 /opt/venv /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=1048576 \
    GRIDSVC_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8000 9101 9102 9103 9104
# The gateway's liveness; Kubernetes uses the probes of deploy/k8s instead (a service pod
# overrides the command, and its probe is GET /metrics on its metrics port).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["python", "-m", "gateway"]
