"""The course that the package carries: the notebooks and the Voila app.

    gamtoy course DEST            # writes DEST/notebooks/*.ipynb and DEST/app/*.ipynb
    gamtoy course DEST --force    # ... replacing files that are already there

A wheel holds them in gamtoy/_course/ (setup.py copies them at build time); a source checkout
or an editable install reads them from the repository's notebooks/ and app/.
"""
import os
import pathlib

from . import _io

FOLDERS = ("notebooks", "app")


class CourseExists(FileExistsError):
    """DEST already holds course files and --force was not given (nothing was written)."""


def source() -> pathlib.Path:
    """The folder holding notebooks/ and app/: the installed copy, else the repository."""
    here = pathlib.Path(__file__).resolve().parent
    for root in (here / "_course", here.parent):
        if all(any((root / f).glob("*.ipynb")) for f in FOLDERS):
            return root
    raise FileNotFoundError(f"the course is not installed: no notebooks in {here / '_course'} "
                            f"or {here.parent} (reinstall gamtoy)")


def files() -> list[pathlib.Path]:
    """The course's files, relative to `source()`, in order (notebooks first)."""
    root = source()
    return [p.relative_to(root) for f in FOLDERS for p in sorted((root / f).glob("*.ipynb"))]


def write(dest: str | os.PathLike, force: bool = False) -> list[pathlib.Path]:
    """Write the course into `dest` (made if missing); the written paths. CourseExists, before
    anything is written, if a file would be replaced and `force` is false."""
    dest = pathlib.Path(os.path.expanduser(os.fspath(dest))).resolve()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} exists and is not a folder")
    root, rel = source(), files()
    taken = [str(r) for r in rel if (dest / r).exists()]
    if taken and not force:
        raise CourseExists(f"{dest} already has {len(taken)} course file(s) ({', '.join(taken[:3])}"
                           f"{' ...' if len(taken) > 3 else ''}); use --force to replace them")
    out = []
    for r in rel:
        (dest / r).parent.mkdir(parents=True, exist_ok=True)
        out.append(pathlib.Path(_io.write_bytes(dest / r, (root / r).read_bytes())))
    return out
