"""The one build step pyproject.toml cannot say: the course goes into the wheel.

The notebooks (notebooks/*.ipynb) and the Voila app (app/*.ipynb) are copied into
gamtoy/_course/ of the build, so `pip install gamtoy` carries them and `gamtoy course DEST`
writes them out. An editable install reads them from the repository instead (gamtoy/course.py).
"""
import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = pathlib.Path(__file__).resolve().parent
COURSE = ("notebooks", "app")  # folders of the repository whose *.ipynb are the course


class BuildPyWithCourse(build_py):
    """build_py, then the course's notebooks into <build_lib>/gamtoy/_course/<folder>/."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = pathlib.Path(self.build_lib) / "gamtoy" / "_course"
        for folder in COURSE:
            found = sorted((ROOT / folder).glob("*.ipynb"))
            if not found:
                raise RuntimeError(f"the course is missing from the source: no {folder}/*.ipynb")
            (dest / folder).mkdir(parents=True, exist_ok=True)
            for src in found:
                shutil.copyfile(src, dest / folder / src.name)


setup(cmdclass={"build_py": BuildPyWithCourse})
