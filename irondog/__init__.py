"""irondog: robot learning for CyberDog-style quadrupeds."""

import os
from importlib.metadata import PackageNotFoundError, version

# Headless machines: MuJoCo picks its GL back end when it is imported. Without a display,
# default to EGL (Debian's libegl1/libegl-mesa0, installed by install.sh); MUJOCO_GL=osmesa
# also works. A value the user set is kept.
if not os.environ.get("DISPLAY") and "MUJOCO_GL" not in os.environ:
    os.environ["MUJOCO_GL"] = "egl"

try:
    __version__ = version("irondog")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
