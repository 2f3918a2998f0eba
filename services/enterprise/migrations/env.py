from common.migrations import run_env
from services.enterprise.models import metadata

run_env(metadata, schema="enterprise")
