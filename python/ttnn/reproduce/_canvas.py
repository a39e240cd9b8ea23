"""Figures drawn without pyplot, so that making them changes no global Matplotlib
state: no backend switch, no current figure, nothing left open to close.

Every figure of :mod:`ttnn.reproduce` comes from :func:`figure`; GIFs are written
frame by frame through Pillow by :func:`save_gif`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._io import atomic_path


def blank(
    figsize: tuple[float, float], layout: Literal["constrained", "tight"] | None = None
) -> Figure:
    """A new, empty ``Figure`` on its own Agg canvas."""
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw: Any):
    """A new ``Figure`` on its own Agg canvas and its axes (as ``plt.subplots``)."""
    fig = blank(figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def save_gif(
    fig: Figure,
    draw: Callable[[Any], None],
    frames: Iterable[Any],
    path: str | os.PathLike[str],
    fps: float,
    dpi: float,
) -> None:
    """Call ``draw(frame)`` for each frame, render ``fig`` and write the frames as a
    looping GIF (atomically). One palette for all frames keeps colours steady."""
    from PIL import Image

    images = []
    for frame in frames:
        draw(frame)
        fig.set_dpi(dpi)
        canvas = fig.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        canvas.draw()
        images.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]))
    palette = images[0].quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    frames_p = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    with atomic_path(path) as tmp:
        frames_p[0].save(
            tmp,
            save_all=True,
            append_images=frames_p[1:],
            duration=int(round(1000 / fps)),
            loop=0,
            optimize=True,
        )
