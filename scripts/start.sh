#!/usr/bin/env bash
# Quick start 1/2: runs the console (Electron, or the browser host where Electron is missing).
# Brings Node 22 and the npm packages itself on a fresh machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ensure_node
ensure_npm_packages
offer_debian_packages "${DEMO_DEBIAN_PACKAGES[@]}"
cd "$PROJECT_ROOT"
exec npm start --silent -- "$@"
