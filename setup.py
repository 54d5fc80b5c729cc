"""Build the compiled kernels: ``item2vec._core`` and its other builds.

Every build is one Cython module made of its vector primitives and the shared
body (``src/item2vec/_core_body.pxi``): ``_core`` (plain loops, baseline flags),
``_core_avx2`` (the same source with AVX2 + FMA, whose primitives are then
AVX2 intrinsics; x86-64 only) and ``_core_blas``
(SciPy's BLAS, baseline flags; used only with ``ITEM2VEC_KERNEL=blas``).

Environment switches:

``ITEM2VEC_DEBUG=1``
    ``-O0 -g`` with AddressSanitizer and UndefinedBehaviorSanitizer (gcc/clang),
    Cython bounds checks on; used by ``scripts/test_sanitized.sh``.
``ITEM2VEC_NATIVE=1``
    ``-march=native`` for a local build tuned to this CPU. Never used for wheels.
"""

import os
import sys
import sysconfig
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("ITEM2VEC_DEBUG", "") == "1"
native = os.environ.get("ITEM2VEC_NATIVE", "") == "1"
msvc = sys.platform == "win32"

compile_args: list[str] = []
link_args: list[str] = []
directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": debug,
}
if msvc:
    compile_args += ["/O2"]
elif debug:
    sanitize = "-fsanitize=address,undefined"
    compile_args += ["-O0", "-g", "-fno-omit-frame-pointer", sanitize]
    link_args += [sanitize]
else:
    # reassociation lets the compiler vectorise the dot products' sums
    compile_args += [
        "-O3", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math",
    ]  # fmt: skip
    if native:
        compile_args += ["-march=native"]


# _core.pyx and _core_blas.pyx include their pieces (_core_avx2.pyx includes
# _core.pyx): a change to any of them rebuilds every module.
kernel_sources = ["src/item2vec/_core.pyx", *sorted(glob("src/item2vec/_*.pxi"))]


def kernel_extension(name: str, extra_args: list[str]) -> Extension:
    return Extension(
        f"item2vec.{name}",
        [f"src/item2vec/{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args + extra_args,
        extra_link_args=link_args,
        depends=kernel_sources,
    )


# _core_blas cimports scipy.linalg.cython_blas (SciPy is a build requirement)
extensions = [kernel_extension("_core", []), kernel_extension("_core_blas", [])]
# The target platform (cross-compiling wheels sets it), not the build machine.
target = sysconfig.get_platform().lower()
if target.endswith(("x86_64", "amd64")) and not native:
    extensions.append(
        kernel_extension("_core_avx2", ["/arch:AVX2"] if msvc else ["-mavx2", "-mfma"])
    )

setup(ext_modules=cythonize(extensions, compiler_directives=directives, force=debug))
