#!/bin/sh
# A stand-in for the docker (or podman) CLI in the managed-pool tests, where containers cannot run:
# `fake_docker.sh run --rm --name NAME -p HOSTPORT:80 IMAGE` behaves like `docker run` in the
# foreground: it takes a while to "pull", then serves on HOSTPORT (the container's port 80 published
# there) with $MANAGED_TEST_SERVER, answering `hello from IMAGE`; SIGTERM is proxied to the
# "container" (docker's --sig-proxy), which stops, and the CLI exits. What it was asked and what it
# got is appended to $FAKE_DOCKER_LOG.
log=${FAKE_DOCKER_LOG:?FAKE_DOCKER_LOG is not set}
server=${MANAGED_TEST_SERVER:?MANAGED_TEST_SERVER is not set}
if [ "$1" != run ]; then
  echo "fake_docker: only 'run' is supported (got '$1')" >&2
  exit 125
fi
shift
publish=""
name=""
image=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rm) shift ;;
    --name) name=$2; shift 2 ;;
    -p|--publish) publish=$2; shift 2 ;;
    -*) echo "fake_docker: unknown flag $1" >&2; exit 125 ;;
    *) image=$1; shift; break ;;
  esac
done
host_port=${publish%%:*}
container_port=${publish#*:}
if [ -z "$image" ] || [ -z "$host_port" ] || [ "$container_port" != 80 ]; then
  echo "fake_docker: expected run [--rm] [--name NAME] -p HOSTPORT:80 IMAGE" >&2
  exit 125
fi
echo "run name=$name publish=$publish image=$image" >> "$log"
sleep 0.4  # pulling the image: not listening yet, so not ready
"$server" --port "$host_port" --name "$image" &
container=$!
trap 'echo "got SIGTERM" >> "$log"; kill -TERM $container; wait $container; echo "container stopped" >> "$log"; exit 0' TERM
wait $container
