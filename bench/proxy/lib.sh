# Shared by bench/proxy/ab.sh and bench/proxy/alloc.sh (sourced from the repository's root, after
# WORK and PIDS are set): `weir proxy` bundled from this checkout and from a git ref, and the cleanup
# of both.

# Kills what was started (PIDS) and removes the ref's worktree.
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  git worktree remove --force "$WORK/old" 2>/dev/null || true
}
trap cleanup EXIT

# bundle SOURCE-ROOT OUTFILE: the CLI as `npm run build:bin` bundles it (whitespace-minified).
bundle() {
  node_modules/.bin/esbuild "$1/src/bin/weir.ts" --bundle --platform=node --format=esm --minify-whitespace --log-level=error \
    --external:etcd3 \
    --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
    --outfile="$2"
}

# bundle_both REF: $WORK/new.mjs from this checkout, $WORK/old.mjs from REF (a temporary worktree).
bundle_both() {
  git worktree add --quiet --detach "$WORK/old" "$1"
  ln -s "$PWD/node_modules" "$WORK/old/node_modules"
  bundle . "$WORK/new.mjs"
  bundle "$WORK/old" "$WORK/old.mjs"
}

# wait_port PORT: until something listens on it (30 s at most).
wait_port() {
  for _ in $(seq 1 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
  echo "port $1 did not open"
  exit 1
}
