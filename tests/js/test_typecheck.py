"""The browser code type-checks, and the client package packs with its declarations.

* The client package (static/js/client) under `strict`, declarations emitted
  from its JSDoc, as `npm pack` does.
* The apps (static/js) together with the package: checkJs, not strict (see
  static/js/tsconfig.json).
* `npm pack` holds every module as .js and .d.ts, and nothing else of the repo.

TypeScript is the version pinned in static/js/client/package-lock.json,
installed by `npm ci` there (scripts/test.sh does it; so does this module when
it is missing). No node or npm is a failure, not a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "static" / "js"
PACKAGE = APPS / "client"


def _run(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tsc() -> Path:
    """The pinned tsc, installed with `npm ci` when absent or not the locked version."""
    npm = shutil.which("npm")
    assert shutil.which("node") and npm, "node/npm are not installed: run scripts/test.sh (it apt-installs them)"
    lock = json.loads((PACKAGE / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/typescript"]["version"]
    installed = PACKAGE / "node_modules" / "typescript" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != locked:
        result = _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], PACKAGE)
        assert result.returncode == 0, result.stdout + result.stderr
    return PACKAGE / "node_modules" / ".bin" / "tsc"


def test_client_package_is_strict_clean_and_emits_declarations(tsc: Path, tmp_path: Path) -> None:
    result = _run([str(tsc), "-p", str(PACKAGE), "--outDir", str(tmp_path)], PACKAGE)
    assert result.returncode == 0, result.stdout + result.stderr
    emitted = {p.name for p in tmp_path.glob("*.d.ts")}
    modules = {p.stem + ".d.ts" for p in PACKAGE.glob("*.js")}
    assert modules <= emitted, modules - emitted
    call = (tmp_path / "call.d.ts").read_text()
    assert "handleMessage(payload: Partial<CallPayload> | null | undefined): boolean" in call


def test_apps_type_check_with_the_package(tsc: Path) -> None:
    result = _run([str(tsc), "-p", str(APPS)], APPS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_npm_pack_holds_every_module_and_its_declarations(tsc: Path, tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm
    result = _run([npm, "pack", "--pack-destination", str(tmp_path), "--json"], PACKAGE)
    assert result.returncode == 0, result.stdout + result.stderr
    tarball = tmp_path / json.loads(result.stdout[result.stdout.index("[") :])[0]["filename"]
    with tarfile.open(tarball) as archive:
        names = {name.removeprefix("package/") for name in archive.getnames()}
        manifest = json.load(archive.extractfile("package/package.json"))  # type: ignore[arg-type]
    for module in PACKAGE.glob("*.js"):
        assert module.name in names
        assert f"types/{module.stem}.d.ts" in names
    assert {"package.json", "README.md", "LICENSE"} <= names
    assert not [n for n in names if n.startswith("node_modules/") or n.endswith(".mjs") or "tsconfig" in n]
    assert manifest["license"] == "MIT"
    assert manifest["type"] == "module"
    assert manifest["exports"]["."]["types"] == "./types/index.d.ts"
