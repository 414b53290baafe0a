"""Rendering of atomic columns blurred by a two-Gaussian probe (numba kernel)."""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["render_columns"]


@numba.njit(cache=True, nogil=True)
def _splat_gaussians(image, x, y, weight, sigma, half, row_shift):
    h, w = image.shape
    norm = 1.0 / (2.0 * math.pi * sigma * sigma)
    inv = 1.0 / (2.0 * sigma * sigma)
    for j in range(x.shape[0]):
        ix = int(round(x[j]))
        iy = int(round(y[j]))
        for r in range(iy - half, iy + half + 1):
            if r < 0 or r >= h:
                continue
            dy = r - y[j]
            shift = row_shift[r]
            for c in range(ix - half, ix + half + 1):
                if c < 0 or c >= w:
                    continue
                dx = c - x[j] - shift
                image[r, c] += weight[j] * norm * math.exp(-(dx * dx + dy * dy) * inv)


@numba.njit(cache=True, nogil=True)
def _splat_bilinear(image, x, y, weight):
    h, w = image.shape
    for j in range(x.shape[0]):
        x0 = int(math.floor(x[j]))
        y0 = int(math.floor(y[j]))
        fx = x[j] - x0
        fy = y[j] - y0
        for dy, wy in ((0, 1.0 - fy), (1, fy)):
            r = y0 + dy
            if r < 0 or r >= h:
                continue
            for dx, wx in ((0, 1.0 - fx), (1, fx)):
                c = x0 + dx
                if 0 <= c < w:
                    image[r, c] += weight[j] * wx * wy


def render_columns(shape_px, x, y, weight, *, sigma_px, tail_sigma_px, tail_fraction,
                   pixel_area_nm2, row_shift_px=None):
    """Sum of columns convolved with the probe, as probe density x weight (per nm^2).

    The core is evaluated exactly at pixel centres (with each scan row shifted by
    ``row_shift_px``); the broad tail is a bilinear deposit blurred by a Gaussian filter.
    """
    from scipy.ndimage import gaussian_filter

    h, w = shape_px
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    image = np.zeros((h, w), np.float64)
    shift = np.zeros(h) if row_shift_px is None else np.asarray(row_shift_px, np.float64)
    half = int(math.ceil(4.5 * sigma_px)) + 1
    _splat_gaussians(image, x, y, weight * (1.0 - tail_fraction), float(sigma_px), half, shift)
    if tail_fraction > 0:
        pad = int(math.ceil(4.0 * tail_sigma_px)) + 2
        canvas = np.zeros((h + 2 * pad, w + 2 * pad), np.float64)
        _splat_bilinear(canvas, x + pad, y + pad, weight * tail_fraction)
        image += gaussian_filter(canvas, tail_sigma_px, mode="constant")[pad:-pad, pad:-pad]
    image /= pixel_area_nm2
    return image
