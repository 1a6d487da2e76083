"""Builds the extension module with the project's CMake; the metadata is in pyproject.toml."""
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = pathlib.Path(self.build_temp).resolve() / "cmake"
        subprocess.check_call([
            "cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
            "-DPython_EXECUTABLE=" + sys.executable, "-DATOMICWRITES_PYTHON=ON",
            "-DATOMICWRITES_TESTS=OFF", "-DATOMICWRITES_EXAMPLES=OFF", "-DATOMICWRITES_CLI=OFF",
            "-DATOMICWRITES_INSTALL=OFF"])
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_atomicwrites"])
        built = next((build_dir / "python" / "atomicwrites").glob("_atomicwrites*"))
        destination = pathlib.Path(self.get_ext_fullpath(ext.name))
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, destination)


setup(ext_modules=[Extension("atomicwrites._atomicwrites", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
