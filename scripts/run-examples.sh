#!/usr/bin/env bash
# Runs every example briefly so that examples keep working (called by .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
