#!/usr/bin/env bash
# Quick start 1/2: runs the console (Electron, or the browser host where Electron is missing).
# Brings Node 22 and the npm packages itself on a fresh machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ensure_node
ensure_npm_packages
offer_debian_packages "${DEMO_DEBIAN_PACKAGES[@]}"
cd "$PROJECT_ROOT"
# node itself, not `npm start`: npm runs it under `sh -c`, which does not pass SIGTERM on, so stopping this
# script with SIGTERM left the console running. Now a signal to this script's pid reaches the launcher.
exec node scripts/start.mjs "$@"
