from common.migrations import run_env
from services.supplydemand.models import metadata

run_env(metadata, schema="supplydemand")
