"""Build the one compiled extension, ``item2vec._core``.

Environment switches:

``ITEM2VEC_DEBUG=1``
    ``-O0 -g`` with AddressSanitizer and UndefinedBehaviorSanitizer (gcc/clang),
    Cython bounds checks on; used by ``scripts/test_sanitized.sh``.
``ITEM2VEC_NATIVE=1``
    ``-march=native`` for a local build tuned to this CPU. Never used for wheels.
"""

import os
import sys

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
    compile_args += ["-O3", "-fno-math-errno"]
    if native:
        compile_args += ["-march=native"]

extension = Extension(
    "item2vec._core",
    ["src/item2vec/_core.pyx"],
    include_dirs=[np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([extension], compiler_directives=directives, force=debug))
