"""Generates the gRPC and protobuf code in `contracts/src/continuum` from `contracts/proto`.

Run with `make contracts`. Generated files are never edited by hand; a test regenerates them
into a temporary folder and fails when the committed copy differs.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[2]
PROTO_ROOT = CONTRACTS / "proto"
OUTPUT_ROOT = CONTRACTS / "src"
PACKAGE = "continuum"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(output_root: Path) -> None:
    """Writes the generated package `continuum` under output_root, replacing what was there."""
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    target = output_root / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    include = str(Path(protoc.__file__).parent / "_proto")
    plugin = Path(sys.executable).parent / "protoc-gen-mypy"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={output_root}",
        f"--grpc_python_out={output_root}",
        f"--plugin=protoc-gen-mypy={plugin}",
        f"--mypy_out={output_root}",
        f"--plugin=protoc-gen-mypy_grpc={plugin.with_name('protoc-gen-mypy_grpc')}",
        f"--mypy_grpc_out={output_root}",
        *(str(p.relative_to(PROTO_ROOT)) for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").write_text('"""Generated from contracts/proto; do not edit."""\n')


def differences(left: Path, right: Path) -> list[str]:
    """Paths that differ between two generated trees, relative to their roots."""
    cmp = filecmp.dircmp(left, right, ignore=["__pycache__"])
    out: list[str] = []

    def walk(c: filecmp.dircmp[str], prefix: str) -> None:
        out.extend(prefix + n for n in c.left_only + c.right_only)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        out.extend(prefix + n for n in mismatch + errors)
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(cmp, "")
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args()
    if not args.check:
        generate(OUTPUT_ROOT)
        print(f"generated {OUTPUT_ROOT / PACKAGE} from {len(proto_files())} proto files")
        return
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = differences(OUTPUT_ROOT / PACKAGE, Path(tmp) / PACKAGE)
    if stale:
        raise SystemExit("generated code is stale, run `make contracts`: " + ", ".join(stale))
    print("generated code is up to date")


if __name__ == "__main__":
    main()
