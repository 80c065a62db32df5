"""Make this machine compute like a different one, to prove compared notebook outputs are portable.

A committed notebook output marked ``# NBVAL_CHECK_OUTPUT`` is compared byte for byte on
every learner's laptop. Two things make numbers depend on the CPU that ran them:

- ``annoy`` compiles itself from source with ``-march=native -O3 -ffast-math`` (unless
  ``ANNOY_COMPILER_ARGS`` is set), so its random-projection trees split differently on
  machines with different vector instructions;
- OpenBLAS chooses its matrix kernels by CPU (``SkylakeX``, ``Haswell``, ``Zen``, ...),
  and different kernels add in different orders, so ALS factors and any BLAS product
  differ in their last bits, which can flip a tie or a rounded digit.

CI renders nothing; it tests the committed outputs (rendered on the maintainer's machine)
as another machine would: with annoy built with portable flags into ``build/annoy-portable``
and OpenBLAS forced onto a different kernel. A compared cell that depends on the CPU then
fails in CI instead of on a learner's laptop.

Usage (from the repository root, inside the course environment)::

    python -m tools.other_machine build-annoy   # build annoy portably into build/annoy-portable
    python -m tools.other_machine env           # print the shell variables for "another machine"
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANNOY_TARGET = ROOT / "build" / "annoy-portable"

#: No -march=native, no -ffast-math, no fused multiply-add: the same arithmetic on every CPU.
PORTABLE_ANNOY_FLAGS = (
    "-D_CRT_SECURE_NO_WARNINGS,-fpermissive,-O2,-std=c++14,"
    "-DANNOYLIB_MULTITHREADED_BUILD,-ffp-contract=off"
)

#: For the kernel OpenBLAS picked here, one that every CPU able to run it also supports.
OTHER_KERNEL = {
    "SkylakeX": "Haswell",
    "Cooperlake": "Haswell",
    "SapphireRapids": "Haswell",
    "Zen": "Sandybridge",
    "Haswell": "Sandybridge",
    "Sandybridge": "Nehalem",
    "Nehalem": "Core2",
    "NeoverseN1": "ARMV8",
    "NeoverseN2": "ARMV8",
    "NeoverseV1": "ARMV8",
    "ThunderX2T99": "ARMV8",
    "VORTEX": "ARMV8",
}


def annoy_version() -> str:
    """The annoy version pinned in ``requirements.lock``."""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.lower().startswith("annoy=="):
            return line.split("==", 1)[1].strip()
    raise SystemExit("requirements.lock pins no annoy version; add 'annoy==X.Y.Z' to it.")


def build_annoy() -> int:
    """Build the pinned annoy from source with portable flags into ``build/annoy-portable``.

    ``--no-cache-dir`` matters: pip caches the wheel it built from the sdist and would reuse
    the native build whatever ``ANNOY_COMPILER_ARGS`` says.
    """
    version = annoy_version()
    stamp = ANNOY_TARGET / f".built-{version}"
    if stamp.is_file():
        print(f"portable annoy {version} already built in {ANNOY_TARGET.relative_to(ROOT)}/")
        return 0
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--no-deps",
        "--no-binary", "annoy", "--upgrade", "--target", str(ANNOY_TARGET), f"annoy=={version}",
    ]  # fmt: skip
    environment = dict(os.environ, ANNOY_COMPILER_ARGS=PORTABLE_ANNOY_FLAGS)
    result = subprocess.run(command, env=environment)
    if result.returncode == 0:
        stamp.touch()
        print(f"portable annoy {version} built in {ANNOY_TARGET.relative_to(ROOT)}/")
    return result.returncode


def current_kernel() -> str | None:
    """The OpenBLAS kernel numpy uses on this machine (``None`` if threadpoolctl cannot tell)."""
    import numpy as np
    from threadpoolctl import threadpool_info

    np.ones((2, 2)) @ np.ones((2, 2))  # make sure the BLAS library is loaded
    for library in threadpool_info():
        if library.get("internal_api") == "openblas" and library.get("architecture"):
            return library["architecture"]
    return None


def environment_lines() -> list[str]:
    """``export`` lines that make this machine compute like another one."""
    lines = [f"export PYTHONPATH={ANNOY_TARGET}${{PYTHONPATH:+:$PYTHONPATH}}"]
    if os.environ.get("OPENBLAS_CORETYPE"):
        # Set by the machine's owner because other kernels misbehave here: never override it.
        print(
            f"# OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} is already set; kept",
            file=sys.stderr,
        )
        return lines
    kernel = current_kernel()
    other = OTHER_KERNEL.get(kernel or "")
    if other:
        lines.append(f"export OPENBLAS_CORETYPE={other}")
    else:
        print(f"# no other OpenBLAS kernel known for {kernel!r}; BLAS left as is", file=sys.stderr)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("build-annoy", "env"))
    args = parser.parse_args(argv)
    if args.action == "build-annoy":
        return build_annoy()
    print("\n".join(environment_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
