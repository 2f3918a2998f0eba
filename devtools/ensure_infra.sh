#!/usr/bin/env bash
# Make sure PostgreSQL and RabbitMQ answer on 127.0.0.1: start them if installed but stopped,
# install them from Debian packages if missing (as root), otherwise stop with a clear message.
set -euo pipefail

PG_HOST=${PG_HOST:-127.0.0.1}; PG_PORT=${PG_PORT:-5432}
AMQP_HOST=${AMQP_HOST:-127.0.0.1}; AMQP_PORT=${AMQP_PORT:-5672}

say() { printf 'infra: %s\n' "$*" >&2; }
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_for() {  # host port seconds
  for _ in $(seq "$3"); do listening "$1" "$2" && return 0; sleep 1; done
  return 1
}
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else
    say "need root to run: $*"; say "run it yourself (or with sudo), then retry"; exit 1
  fi
}
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  listening "$PG_HOST" "$PG_PORT" && return 0
  if ! command -v pg_ctlcluster >/dev/null; then
    say "PostgreSQL is not installed: installing the Debian package"
    apt_install postgresql
  fi
  say "starting PostgreSQL"
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for "$PG_HOST" "$PG_PORT" 30 || { say "PostgreSQL did not come up on $PG_HOST:$PG_PORT"; exit 1; }
}

ensure_trust_auth() {
  # the default DATABASE_URL connects as postgres without a password (local development)
  if ! psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -Atc 'select 1' >/dev/null 2>&1; then
    say "cannot connect as postgres@$PG_HOST:$PG_PORT without a password."
    say "set DATABASE_URL to a database you may use, or allow trust auth for 127.0.0.1."
    [ -n "${DATABASE_URL:-}" ] || exit 1
  fi
}

ensure_rabbitmq() {
  listening "$AMQP_HOST" "$AMQP_PORT" && return 0
  if ! command -v rabbitmq-server >/dev/null; then
    say "RabbitMQ is not installed: installing the Debian package"
    apt_install rabbitmq-server
  fi
  say "starting RabbitMQ"
  as_root rabbitmq-server -detached || true
  wait_for "$AMQP_HOST" "$AMQP_PORT" 60 || { say "RabbitMQ did not come up on $AMQP_HOST:$AMQP_PORT"; exit 1; }
}

# Queue depth and consumers come from RabbitMQ's own Prometheus plugin (:15692), as in
# Kubernetes (deploy/k8s/base/monitors.yaml); tests/test_monitoring.py scrapes it. Enabling
# it starts a listener and changes nothing for the broker's clients. Skipped (with a note)
# when rabbitmq-plugins cannot be run here.
ensure_rabbitmq_prometheus() {
  listening "$AMQP_HOST" 15692 && return 0
  command -v rabbitmq-plugins >/dev/null || { say "rabbitmq-plugins not found: no :15692"; return 0; }
  if [ "$(id -u)" != 0 ]; then
    say "RabbitMQ's Prometheus plugin is off; as root: rabbitmq-plugins enable rabbitmq_prometheus"
    return 0
  fi
  say "enabling RabbitMQ's Prometheus plugin (:15692)"
  rabbitmq-plugins enable rabbitmq_prometheus >/dev/null || say "could not enable rabbitmq_prometheus"
  wait_for "$AMQP_HOST" 15692 20 || say "rabbitmq_prometheus does not answer on :15692"
}

ensure_postgres
ensure_trust_auth
ensure_rabbitmq
ensure_rabbitmq_prometheus
say "PostgreSQL $PG_HOST:$PG_PORT and RabbitMQ $AMQP_HOST:$AMQP_PORT are up"
