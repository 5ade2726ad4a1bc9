#!/usr/bin/env bash
# Run the whole test suite (unit, real-ZFS integration, SSH/TLS transport, CLI end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-env.sh
npm test
