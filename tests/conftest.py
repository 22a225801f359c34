import os

# Tests run on CPU, headless; MuJoCo renders through EGL unless told otherwise.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")
