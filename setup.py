"""Builds the one C extension: replay/_icount.c (the exact instruction counter)
and replay/_pagediff.c (checkpoint page comparison), loaded with ctypes.

Everything else is declared in pyproject.toml.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("replay._icount", ["replay/_icount.c", "replay/_pagediff.c"],
                             extra_compile_args=["-O2"])])
