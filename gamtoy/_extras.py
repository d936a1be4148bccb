"""Optional dependencies: a missing one is one line naming the extra that brings it."""
import importlib
from types import ModuleType

# the top-level module -> the extra of pyproject.toml that installs it
EXTRA_OF = {"ipywidgets": "notebooks", "jupyterlab": "notebooks", "voila": "notebooks",
            "ipykernel": "notebooks", "nbformat": "notebooks", "torch": "torch"}


def install_hint(module: str) -> str:
    """One line: what is missing and the pip command whose extra brings it."""
    extra = EXTRA_OF.get(module.split(".")[0], "all")
    return f'{module} is not installed: pip install "gamtoy[{extra}]"'


def require(module: str) -> ModuleType:
    """Import `module`, or raise ModuleNotFoundError whose message is `install_hint(module)`."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or e.name.split(".")[0] != module.split(".")[0]:
            raise  # something inside the module is missing: not the extra's fault
        raise ModuleNotFoundError(install_hint(module), name=module) from None
