"""Deterministic, spatially correlated random fields for synthetic rasters.

The demo data (:mod:`swc_raster.demo`) and the tests need rasters that look
like real terrain and land cover: smooth at large scales, rough at small ones,
and reproducible from a seed.  This module makes them by *spectral synthesis*:
white Gaussian noise is shaped in the Fourier domain by a power spectrum

    P(k) ∝ (k² + k₀²)^(−β/2)

where ``k`` is the spatial frequency (cycles per pixel), ``β`` the spectral
exponent (β ≈ 3–4 gives terrain-like fractal surfaces, β ≈ 2 a rougher,
cloud-like field, β = 0 white noise) and ``k₀ = 1 / corr_length_px`` a
roll-off that flattens the spectrum at wavelengths longer than the
correlation length, so the field has no structure larger than that.

Everything is plain, vectorised numpy; fields are returned as ``float32``
with zero mean and unit standard deviation, ready to be rescaled
(:func:`rescale`) or turned into uniform scores (:func:`to_uniform`).
"""

from __future__ import annotations

import numpy as np
from affine import Affine
from scipy.special import ndtr

__all__ = [
    "spectral_field",
    "rescale",
    "to_uniform",
    "standardise",
    "bilinear_resample",
    "lag_autocorrelation",
]

SeedLike = int | np.random.Generator


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def spectral_field(
    shape: tuple[int, int],
    seed: SeedLike,
    *,
    beta: float = 3.0,
    corr_length_px: float | None = None,
    pad: float = 0.25,
) -> np.ndarray:
    """A Gaussian random field with a power-law spectrum, standardised.

    Parameters
    ----------
    shape : (int, int)
        Rows and columns of the output.
    seed : int or numpy.random.Generator
        Seed (or generator) of the white noise; the same seed and parameters
        always give the identical array.
    beta : float, default 3.0
        Spectral exponent β of ``P(k) ∝ (k² + k₀²)^(−β/2)``.  Larger is smoother.
    corr_length_px : float, optional
        Correlation length in pixels (``k₀ = 1 / corr_length_px``).  Defaults to
        the largest padded dimension, i.e. structure at every scale that fits.
    pad : float, default 0.25
        Fraction of each dimension added before synthesis and cropped after,
        so the periodicity of the FFT does not make opposite edges match.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of ``shape``, mean 0 and standard deviation 1
        (dimensionless).
    """
    rows, cols = (int(shape[0]), int(shape[1]))
    if rows < 1 or cols < 1:
        raise ValueError(f"shape must be positive, got {shape}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    pr = rows + int(np.ceil(rows * pad))
    pc = cols + int(np.ceil(cols * pad))
    # Even sizes keep the real FFT simple and fast.
    pr += pr % 2
    pc += pc % 2
    k0 = 1.0 / (corr_length_px if corr_length_px else max(pr, pc))
    ky = np.fft.fftfreq(pr).astype(np.float32)[:, None]
    kx = np.fft.rfftfreq(pc).astype(np.float32)[None, :]
    amplitude = (ky * ky + kx * kx + np.float32(k0 * k0)) ** np.float32(-beta / 4.0)
    amplitude[0, 0] = 0.0  # zero mean
    rng = _rng(seed)
    noise = rng.standard_normal((pr, pc // 2 + 1, 2), dtype=np.float32)
    spectrum = (noise[..., 0] + 1j * noise[..., 1]).astype(np.complex64)
    del noise
    spectrum *= amplitude
    del amplitude
    field = np.fft.irfft2(spectrum, s=(pr, pc)).astype(np.float32, copy=False)
    del spectrum
    field = np.ascontiguousarray(field[:rows, :cols])
    return standardise(field)


def standardise(field: np.ndarray) -> np.ndarray:
    """Shift and scale ``field`` to mean 0, standard deviation 1 (``float32``, NaN ignored)."""
    f = np.asarray(field, dtype=np.float32)
    mean = np.nanmean(f, dtype=np.float64)
    std = np.nanstd(f, dtype=np.float64)
    out = f - np.float32(mean)
    if std > 0:
        out /= np.float32(std)
    return out


def rescale(field: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linearly map ``field`` so its minimum is ``lo`` and its maximum ``hi`` (``float32``).

    NaN stays NaN.  A constant field maps to the midpoint.
    """
    if hi < lo:
        raise ValueError(f"hi ({hi}) must be >= lo ({lo})")
    f = np.asarray(field, dtype=np.float32)
    fmin = float(np.nanmin(f))
    fmax = float(np.nanmax(f))
    if fmax == fmin:
        return np.full(f.shape, (lo + hi) / 2.0, dtype=np.float32)
    scale = np.float32((hi - lo) / (fmax - fmin))
    return (f - np.float32(fmin)) * scale + np.float32(lo)


def to_uniform(field: np.ndarray) -> np.ndarray:
    """Turn a (roughly Gaussian) field into scores uniform on (0, 1) (``float32``).

    The field is standardised and passed through the standard normal CDF Φ,
    so ``to_uniform(f) < p`` selects a share ≈ ``p`` of the pixels, in
    spatially coherent patches.
    """
    return ndtr(standardise(field)).astype(np.float32)


def bilinear_resample(
    field: np.ndarray,
    src_transform: Affine,
    dst_transform: Affine,
    dst_shape: tuple[int, int],
) -> np.ndarray:
    """Sample ``field`` bilinearly at the cell centres of another grid in the same CRS.

    Both grids must be north-up (no rotation).  Points outside the source
    grid take the value of the nearest edge cell.  Separable: the cost is a
    few gathers of the output size, no coordinate arrays of that size.

    Parameters
    ----------
    field : numpy.ndarray
        2-D source values.
    src_transform, dst_transform : affine.Affine
        Georeferencing of the source and destination grids (same CRS units).
    dst_shape : (int, int)
        Rows and columns of the destination grid.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of ``dst_shape``.
    """
    for t in (src_transform, dst_transform):
        if t.b != 0 or t.d != 0:
            raise ValueError("bilinear_resample needs north-up grids without rotation")
    src = np.asarray(field, dtype=np.float32)
    rows, cols = dst_shape
    # Destination cell centres in CRS units, then fractional source indices
    # (index i has its centre at i + 0.5 in pixel coordinates).
    xs = dst_transform.c + (np.arange(cols) + 0.5) * dst_transform.a
    ys = dst_transform.f + (np.arange(rows) + 0.5) * dst_transform.e
    c0, c1, wc = _axis_weights((xs - src_transform.c) / src_transform.a - 0.5, src.shape[1])
    r0, r1, wr = _axis_weights((ys - src_transform.f) / src_transform.e - 0.5, src.shape[0])
    # Along rows first (source rows × destination columns, small), then whole-row
    # gathers along columns: contiguous copies, fast for large outputs.
    along = src[:, c0] * (1 - wc)[None, :]
    along += src[:, c1] * wc[None, :]
    out = along[r0]
    out *= (1 - wr)[:, None]
    out += along[r1] * wr[:, None]
    return out


def _axis_weights(pos: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower index, upper index and upper weight for fractional positions along one axis."""
    pos = np.clip(pos, 0, n - 1)
    i0 = np.minimum(np.floor(pos).astype(np.intp), max(n - 2, 0))
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0).astype(np.float32)
    return i0, i1, w


def lag_autocorrelation(field: np.ndarray, lag: int = 1) -> float:
    """Pearson correlation between pixels ``lag`` apart (rows and columns pooled).

    A quick measure of spatial smoothness: ≈ 0 for white noise, close to 1
    for a smooth field.
    """
    f = np.asarray(field, dtype=np.float64)
    if lag < 1 or lag >= min(f.shape):
        raise ValueError(f"lag must be in [1, {min(f.shape) - 1}], got {lag}")
    a = np.concatenate([f[:, :-lag].ravel(), f[:-lag, :].ravel()])
    b = np.concatenate([f[:, lag:].ravel(), f[lag:, :].ravel()])
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])
