#!/bin/sh
# The type check (`make test` runs it): mypy over traycourier.agent and traycourier.store.
# mypy cannot follow the editable install's import hook (the folders agent/ and store/ are
# installed as traycourier.agent and traycourier.store), so the same mapping is laid out as
# links under build/typecheck, as the PyInstaller spec does for its build.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
stage="$root/build/typecheck"
mkdir -p "$stage/traycourier"
for pkg in agent store assets; do
    ln -sfn "$root/$pkg" "$stage/traycourier/$pkg"
done
cd "$stage"
exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" \
    -p traycourier.agent -p traycourier.store
