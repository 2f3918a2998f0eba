from common.migrations import run_env
from services.ticketing.models import metadata

run_env(metadata, schema="ticketing")
