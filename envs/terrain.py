"""Ground for the two task variants: the flat plane of the MJCF, or a rough heightfield.

The rough ground is a grid of square tiles: rows are curriculum levels (bumps grow with the
level), columns are tiles of the same level. A simulation spawns at the centre of a tile of
its level; it moves up a level after walking far enough and down after a fall.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import mujoco
import numpy as np

from irondog.envs.config import EnvConfig, TerrainConfig
from irondog.envs.robot import asset_path

RESOLUTION = 0.1  # m per heightfield sample


def heightfield(cfg: TerrainConfig, seed: int = 0) -> np.ndarray:
    """Heights (rows, cols) in m: smooth random bumps scaled by each tile row's level."""
    rng = np.random.default_rng(seed)
    per_tile = int(round(cfg.tile_size / RESOLUTION))
    rows, cols = cfg.levels * per_tile, cfg.tiles_per_level * per_tile
    coarse = rng.uniform(-1.0, 1.0, size=(rows // 4 + 2, cols // 4 + 2))
    # Bilinear upsampling of coarse noise gives bumps about 0.4 m across.
    y = np.linspace(0, coarse.shape[0] - 1.001, rows)
    x = np.linspace(0, coarse.shape[1] - 1.001, cols)
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    c = coarse
    smooth = (
        c[y0][:, x0] * (1 - fy) * (1 - fx)
        + c[y0 + 1][:, x0] * fy * (1 - fx)
        + c[y0][:, x0 + 1] * (1 - fy) * fx
        + c[y0 + 1][:, x0 + 1] * fy * fx
    )
    level = np.repeat(np.arange(cfg.levels), per_tile) / max(cfg.levels - 1, 1)
    heights = 0.5 * (smooth + 1.0) * cfg.max_roughness * level[:, None]
    # A flat pad at each tile centre so that spawning never starts inside a bump.
    pad = int(0.3 / RESOLUTION)
    for r in range(cfg.levels):
        for t in range(cfg.tiles_per_level):
            cy, cx = r * per_tile + per_tile // 2, t * per_tile + per_tile // 2
            block = heights[cy - pad : cy + pad, cx - pad : cx + pad]
            heights[cy - pad : cy + pad, cx - pad : cx + pad] = block.min()
    return heights


def tile_centres(cfg: TerrainConfig) -> np.ndarray:
    """(levels, tiles, 2) world x, y of each tile's centre."""
    width_x = cfg.tiles_per_level * cfg.tile_size
    width_y = cfg.levels * cfg.tile_size
    xs = -width_x / 2 + (np.arange(cfg.tiles_per_level) + 0.5) * cfg.tile_size
    ys = -width_y / 2 + (np.arange(cfg.levels) + 0.5) * cfg.tile_size
    return np.stack(np.meshgrid(xs, ys), axis=-1)


def build_model(cfg: EnvConfig, seed: int = 0) -> mujoco.MjModel:
    """The CyberDog 2 model on the configured ground, at the configured timestep."""
    spec = mujoco.MjSpec.from_file(str(asset_path()))
    spec.option.timestep = cfg.sim_dt
    if cfg.terrain == "rough":
        tc = cfg.terrain_config
        heights = heightfield(tc, seed)
        top = max(float(heights.max()), 1e-3)
        rows, cols = heights.shape
        hfield = spec.add_hfield(
            name="terrain",
            nrow=rows,
            ncol=cols,
            size=[cols * RESOLUTION / 2, rows * RESOLUTION / 2, top, 0.1],
        )
        hfield.userdata = (heights / top).ravel().tolist()
        floor = spec.geom("floor")
        floor.type = mujoco.mjtGeom.mjGEOM_HFIELD
        floor.hfieldname = "terrain"
        floor.material = ""
        floor.rgba = [0.45, 0.42, 0.38, 1.0]
    return spec.compile()


def ground_height(heights: Any, xy: Any, xp: ModuleType = np) -> Any:
    """(n,) height of the heightfield ``heights`` (rows, cols) under world points (n, 2), m."""
    rows, cols = heights.shape
    col = xp.clip(((xy[:, 0] / (cols * RESOLUTION) + 0.5) * cols).astype(np.int32), 0, cols - 1)
    row = xp.clip(((xy[:, 1] / (rows * RESOLUTION) + 0.5) * rows).astype(np.int32), 0, rows - 1)
    return heights[row, col]


def spawn_xy(levels: np.ndarray, tiles: np.ndarray, cfg: TerrainConfig) -> np.ndarray:
    """(n, 2) spawn positions for the given level and tile indices."""
    return tile_centres(cfg)[levels, tiles]
