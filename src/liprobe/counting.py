"""Counting statistics of compositions: fractions and ratios of atom counts, with σ.

One implementation for every place that turns counts into a composition (a data set's
:class:`~liprobe.apt.composition.Composition`, profiles, the quality checks, a study's
specimen and pooled ratios).

The model
---------
Ions of each species are counted; their numbers are multinomial over the species (or
Poisson, which gives the same variance for every fraction and ratio: these do not change
when all counts scale, so the multinomial's ``-N p pᵀ`` term drops out). Atoms are linear
combinations of the ion counts with the stoichiometry of each species: an O2+ ion carries
two O atoms, a NiO+ ion one Ni and one O, so atoms of different elements are *correlated*
and the O count is over-dispersed. The covariance of the atom counts is therefore::

    C = Mᵀ diag(n) M        (n ions per species, M atoms per ion: n_species x n_elements)

(:func:`atom_covariance`). A fraction ``f_e = a_e / Σ a`` or a ratio ``r_e = a_e / Σ_T a_T``
is a function ``g(a)``; its variance is the delta method with the full covariance,
``gradᵀ C grad`` (:func:`fractions_with_sigma`, :func:`ratios_with_sigma`). Extra
covariance (the isotope-overlap shares, a dead-time correction) is added to ``C``. For
monatomic ions ``C = diag(a)`` and the formulas reduce to the binomial
``sqrt(f (1 - f) / N)`` inside the normalising set and ``r sqrt(1/a + 1/D)`` outside.

Zero counts (one rule everywhere)
---------------------------------
A count of zero is not exact: its variance is taken as that of **one** monatomic ion
(``C_ee = 1`` where ``a_e = 0``), so a zero fraction has σ = 1/N and a zero ratio σ = 1/D
(D the denominator's atoms). An empty denominator gives NaN for value and σ. For a limit
on a zero count use :func:`interval` (Wilson: upper end ≈ z² / N).

The default denominator
-----------------------
Ratios are normalised to the NCM transition metals present, **Ni + Co + Mn**
(:data:`DEFAULT_DENOMINATOR`), as Chae et al. (2021) do. Pass ``normalize_to`` for
another set.

References
----------
Danoix, Grancher, Bostel & Blavette, Ultramicroscopy 107 (2007) 734 and 739 (counting
errors of APT compositions). Wilson, J. Am. Stat. Assoc. 22 (1927) 209 (score interval).
Chae et al., Nature Communications (2021): ``r_X = N_X / (N_Ni + N_Co + N_Mn)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from liprobe.errors import ParameterError

__all__ = ["DEFAULT_DENOMINATOR", "denominator_for", "atom_covariance",
           "poisson_covariance", "fractions_with_sigma", "ratios_with_sigma", "interval",
           "binomial_interval", "INTERVAL_METHODS"]

#: The ratio denominator when none is given: the NCM transition metals (present ones).
DEFAULT_DENOMINATOR: tuple[str, ...] = ("Ni", "Co", "Mn")
#: Interval methods of :func:`interval`.
INTERVAL_METHODS = ("wilson", "wald")


def denominator_for(elements: Sequence[str],
                    normalize_to: str | Iterable[str] | None = None) -> tuple[str, ...]:
    """Elements of the ratio denominator: ``normalize_to``, or the default metals present.

    Examples
    --------
    >>> denominator_for(("Li", "O", "Ni", "Co"))
    ('Ni', 'Co')
    >>> denominator_for(("Li", "O", "Ni"), "O")
    ('O',)
    """
    elements = tuple(elements)
    if normalize_to is None:
        names = tuple(m for m in DEFAULT_DENOMINATOR if m in elements)
        if not names:
            raise ParameterError("none of Ni, Co, Mn is in the ranges to normalise to; pass "
                                 "normalize_to=<elements> (e.g. 'O')")
        return names
    names = (normalize_to,) if isinstance(normalize_to, str) else tuple(normalize_to)
    if not names:
        raise ParameterError("normalize_to must name at least one element")
    for name in names:
        if name not in elements:
            import difflib

            same_case = [e for e in elements if e.lower() == str(name).lower()]
            near = same_case or difflib.get_close_matches(str(name), elements, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ParameterError(f"normalize_to: {name!r} is not an element of the ranges; "
                                 f"{hint}available: {', '.join(elements) or '(none)'}")
    return tuple(dict.fromkeys(names))


def atom_covariance(ion_counts: np.ndarray, atoms_per_species: np.ndarray) -> np.ndarray:
    """Covariance ``Mᵀ diag(n) M`` of the atom counts from ion counts (the module's model).

    Parameters
    ----------
    ion_counts : (..., n_species) array
        Ions per species (rows: bins, specimens ...).
    atoms_per_species : (n_species, n_elements) array
        Atoms of each element in one ion of each species.

    Returns
    -------
    (..., n_elements, n_elements) float64

    Examples
    --------
    >>> import numpy as np
    >>> atom_covariance(np.array([10, 5]), np.array([[1, 0], [0, 2]])).tolist()  # O, O2
    [[10.0, 0.0], [0.0, 20.0]]
    """
    n = np.asarray(ion_counts, dtype=np.float64)
    m = np.asarray(atoms_per_species, dtype=np.float64)
    if n.shape[-1] != m.shape[0]:
        raise ParameterError(f"{n.shape[-1]} ion counts for {m.shape[0]} species")
    return np.einsum("...s,se,sf->...ef", n, m, m)


def poisson_covariance(atom_counts: np.ndarray) -> np.ndarray:
    """``diag(a)``: atoms as independent Poisson counts (exact for monatomic ions only)."""
    a = np.asarray(atom_counts, dtype=np.float64)
    return a[..., :, None] * np.eye(a.shape[-1])


def _zero_rule(counts: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """The covariance with ``C_ee = max(C_ee, 1)`` where ``a_e = 0`` (one-count scale)."""
    cov = np.array(covariance, dtype=np.float64, copy=True)
    diag = np.einsum("...ee->...e", cov)  # a writable view of the diagonal
    diag[...] = np.where(counts == 0, np.maximum(diag, 1.0), diag)
    return cov


def _prepare(atom_counts, covariance):
    a = np.asarray(atom_counts, dtype=np.float64)
    if a.ndim == 0:
        raise ParameterError("atom_counts must have one entry per element")
    cov = poisson_covariance(a) if covariance is None else np.asarray(covariance, np.float64)
    if cov.shape != a.shape + (a.shape[-1],):
        raise ParameterError(f"covariance of shape {cov.shape} does not match atom counts of "
                             f"shape {a.shape} (need {a.shape + (a.shape[-1],)})")
    return a, _zero_rule(a, cov)


def _delta(values: np.ndarray, scale: np.ndarray, in_set: np.ndarray,
           cov: np.ndarray) -> np.ndarray:
    """σ of ``a_e / S`` for every e: gradient ``(δ_ek - v_e w_k) / S``, ``w`` the set."""
    n_el = values.shape[-1]
    eye = np.eye(n_el)
    with np.errstate(invalid="ignore", divide="ignore"):
        grad = (eye - values[..., :, None] * in_set[..., None, :]) / scale[..., None, None]
        var = np.einsum("...ek,...kl,...el->...e", grad, cov, grad)
    return np.sqrt(np.clip(var, 0.0, None))


def fractions_with_sigma(atom_counts: np.ndarray, covariance: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Atomic fractions ``a_e / Σ a`` and σ (delta method with the full covariance).

    Parameters
    ----------
    atom_counts : (..., n_elements) array
        Atoms per element (any leading shape: bins, specimens).
    covariance : (..., n_elements, n_elements) array, optional
        Covariance of the atom counts (:func:`atom_covariance`, plus any extra term).
        Default :func:`poisson_covariance` (monatomic ions).

    Returns
    -------
    fractions, sigmas : (..., n_elements) float64
        NaN where there are no atoms; zero counts follow the module's rule (σ = 1/N).

    Examples
    --------
    >>> import numpy as np
    >>> f, s = fractions_with_sigma(np.array([30, 70]))
    >>> f.tolist(), round(float(s[0]), 5) == round((0.3 * 0.7 / 100) ** 0.5, 5)
    ([0.3, 0.7], True)
    >>> fractions_with_sigma(np.array([0, 100]))[1].tolist()
    [0.01, 0.01]
    """
    a, cov = _prepare(atom_counts, covariance)
    total = a.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(total[..., None] > 0, a / total[..., None], np.nan)
    sigma = _delta(values, total, np.ones_like(a), cov)
    sigma = np.where(total[..., None] > 0, sigma, np.nan)
    return values, sigma


def ratios_with_sigma(atom_counts: np.ndarray, elements: Sequence[str],
                      denominator: str | Iterable[str] | None = None,
                      covariance: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Ratios ``a_e / Σ_T a_T`` of every element to the denominator set, with σ.

    Parameters
    ----------
    atom_counts : (..., n_elements) array
    elements : sequence of str
        Element of each column.
    denominator : str or sequence of str, optional
        Elements T summed in the denominator; default :data:`DEFAULT_DENOMINATOR` present.
        An empty sequence gives NaN ratios (no denominator).
    covariance : (..., n_elements, n_elements) array, optional
        As :func:`fractions_with_sigma`.

    Returns
    -------
    ratios, sigmas : (..., n_elements) float64
        NaN where the denominator is 0; zero counts follow the module's rule (σ = 1/D).

    Examples
    --------
    >>> import numpy as np
    >>> r, s = ratios_with_sigma(np.array([100, 80, 20]), ("Li", "Ni", "Co"))
    >>> r.tolist()
    [1.0, 0.8, 0.2]
    >>> round(float(s[1]), 6) == round((0.8 * 0.2 / 100) ** 0.5, 6)  # binomial inside the set
    True
    >>> ratios_with_sigma(np.array([0, 80, 20]), ("Li", "Ni", "Co"))[1][0]  # zero: 1/D
    np.float64(0.01)
    """
    elements = tuple(elements)
    a, cov = _prepare(atom_counts, covariance)
    if a.shape[-1] != len(elements):
        raise ParameterError(f"{a.shape[-1]} atom counts for {len(elements)} elements")
    if denominator is not None and not isinstance(denominator, str) and not tuple(denominator):
        nan = np.full(a.shape, np.nan)  # an empty set (no metal in the ranges): no ratios
        return nan, nan.copy()
    names = denominator_for(elements, denominator)
    in_set = np.isin(np.arange(len(elements)), [elements.index(e) for e in names])
    den = (a * in_set).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(den[..., None] > 0, a / den[..., None], np.nan)
    sigma = _delta(values, den, np.broadcast_to(in_set.astype(np.float64), a.shape), cov)
    sigma = np.where(den[..., None] > 0, sigma, np.nan)
    return values, sigma


def _wilson(q: np.ndarray, n_eff: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (q + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
        half = z * np.sqrt(q * (1 - q) / n_eff + z2 / (4 * n_eff * n_eff)) / (1 + z2 / n_eff)
    low = np.where(q <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exact ends, no rounding
    high = np.where(q >= 1, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def interval(value: float | np.ndarray, sigma: float | np.ndarray, *,
             proportion: bool = True, confidence: float = 0.95,
             method: str = "wilson") -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval ``(low, high)`` of a fraction or ratio from its value and σ.

    ``method="wald"``: ``value ± z σ``. ``method="wilson"`` (default): the Wilson score
    interval of the proportion with the *effective* number of counts
    ``n_eff = q (1 - q) / σ²`` (the binomial sample size that gives this σ; for molecular
    ions smaller than the atom count), which stays inside [0, 1] and gives a finite upper
    end for a zero count (``n_eff = 1/σ`` by the zero rule). ``proportion=False`` is for a
    ratio to a set that excludes the element (``r = a / D``): the interval is computed for
    ``q = r / (1 + r)`` and mapped back.

    Examples
    --------
    >>> lo, hi = interval(0.0, 0.01)  # 0 of 100
    >>> float(lo), round(float(hi), 4)
    (0.0, 0.037)
    """
    if method not in INTERVAL_METHODS:
        raise ParameterError(f"method={method!r} is not known; use one of "
                             f"{', '.join(INTERVAL_METHODS)}")
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence must lie in (0, 1), got {confidence}")
    z = _z(confidence)
    v = np.asarray(value, dtype=np.float64)
    s = np.asarray(sigma, dtype=np.float64)
    if method == "wald":
        return v - z * s, v + z * s
    q, sq = (v, s) if proportion else (v / (1 + v), s / (1 + v) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = (q > 0) & (q < 1)
        n_eff = np.where(inner, q * (1 - q) / sq**2, 1.0 / sq)
    lo, hi = _wilson(q, n_eff, z)
    if not proportion:
        with np.errstate(invalid="ignore", divide="ignore"):
            # an upper end of q = 1 is an unbounded ratio; an undefined one stays NaN
            lo, hi = lo / (1 - lo), np.where(hi >= 1, np.inf, hi / (1 - hi))
    return lo, hi


def binomial_interval(k: float, n: float, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n`` (``k`` of ``n`` counts; NaN, NaN
    for ``n <= 0``), the interval :func:`interval` uses, with exact ends at 0 and ``n``.

    Examples
    --------
    >>> lo, hi = binomial_interval(0, 100)
    >>> float(lo), round(float(hi), 4)
    (0.0, 0.037)
    """
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"confidence must lie in (0, 1), got {confidence}")
    if not n > 0:
        return float("nan"), float("nan")
    lo, hi = _wilson(np.float64(k) / n, np.float64(n), _z(confidence))
    return float(lo), float(hi)


def _z(confidence: float) -> float:
    """Two-sided normal quantile: scipy.stats.norm.isf((1 - c) / 2) without importing
    scipy.stats (the same function, ndtri)."""
    from scipy.special import ndtri

    return float(-ndtri((1 - confidence) / 2))
