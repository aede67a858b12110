#!/usr/bin/env bash
# Quick start 2/2: runs every test suite (type-check, lint, unit, integration, e2e, electron).
# Brings Node 22, the npm packages and the Debian packages the tests drive (when root or with sudo).
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ensure_debian_packages "${TEST_DEBIAN_PACKAGES[@]}"
ensure_node
ensure_npm_packages
cd "$PROJECT_ROOT"
exec npm test --silent -- "$@"
