#!/usr/bin/env bash
# The main job on the embedded reference, as far as it exists today.
set -euo pipefail
cd "$(dirname "$0")/.."
./bin/sseaudit version
