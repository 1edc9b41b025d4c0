"""The hashed n-gram count as one compiled pass (numba), used where numba is installed.

The array version in ``hashing.py`` makes one pass over the batch per n-gram order and sorts every
row's columns to add up repeats; this kernel walks the batch once and adds a repeat where it
stands, which made featurizing 3 to 5 times faster. It computes exactly the same hashes, so a
model behaves the same with or without it. ``hashing`` imports this module on first use, so a
model without hashed features never pays for numba.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

_CHAR_BASE = np.uint64(0x100000001B3)
_TOKEN_BASE = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, nogil=True)
def _mix(value: Any, n: Any) -> Any:
    z = value + np.uint64(n) * _M1
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def _add(column: Any, row: Any, last: Any, slot: Any, indices: Any, data: Any, k: Any) -> Any:
    """Count ``column`` in ``row``: a new entry the first time, one more after that."""
    if column < 0:
        return k
    if last[column] != row:
        last[column] = row
        slot[column] = k
        indices[k] = column
        data[k] = 1.0
        return k + 1
    data[slot[column]] += 1.0
    return k


@numba.njit(cache=True, nogil=True)
def count_ngrams(
    codes: Any,
    space: Any,
    word: Any,
    starts: Any,
    lookup: Any,
    n_features: Any,
    low: Any,
    high: Any,
    by_words: Any,
    n_columns: Any,
) -> Any:
    n_units, size = starts.size, codes.size
    last = np.full(max(n_columns, 1), -1, np.int64)
    slot = np.zeros(max(n_columns, 1), np.int64)
    capacity = (size + 2 * n_units + 2) * (high - low + 2) + 16
    indptr = np.zeros(n_units + 1, np.int64)
    indices = np.empty(capacity, np.int32)
    data = np.empty(capacity, np.float32)
    buffer = np.empty(size + 2, np.uint64)
    modulo = np.uint64(n_features)
    k = 0
    for u in range(n_units):
        begin = starts[u]
        end = starts[u + 1] - 1 if u + 1 < n_units else size
        if by_words:
            # Token hashes of the unit: runs of word characters, or one other mark.
            m = 0
            i = begin
            while i < end:
                if space[i]:
                    i += 1
                    continue
                value = np.uint64(0)
                if word[i]:
                    while i < end and word[i]:
                        value = value * _CHAR_BASE + np.uint64(codes[i])
                        i += 1
                else:
                    value = np.uint64(codes[i])
                    i += 1
                buffer[m] = value
                m += 1
            for a in range(m):
                value = np.uint64(0)
                for n in range(1, high + 1):
                    if a + n > m:
                        break
                    value = value * _TOKEN_BASE + buffer[a + n - 1]
                    if n >= low:
                        column = lookup[_mix(value, n) % modulo]
                        k = _add(column, u, last, slot, indices, data, k)
        else:
            i = begin
            while i < end:
                if space[i]:
                    i += 1
                    continue
                # One word padded with a space on each side, as scikit-learn's char_wb.
                buffer[0] = np.uint64(32)
                p = 1
                while i < end and not space[i]:
                    buffer[p] = np.uint64(codes[i])
                    p += 1
                    i += 1
                buffer[p] = np.uint64(32)
                p += 1
                if p < low:
                    value = np.uint64(0)
                    for j in range(p):
                        value = value * _CHAR_BASE + buffer[j]
                    column = lookup[_mix(value, p) % modulo]
                    k = _add(column, u, last, slot, indices, data, k)
                    continue
                for a in range(p):
                    value = np.uint64(0)
                    for n in range(1, high + 1):
                        if a + n > p:
                            break
                        value = value * _CHAR_BASE + buffer[a + n - 1]
                        if n >= low:
                            column = lookup[_mix(value, n) % modulo]
                            k = _add(column, u, last, slot, indices, data, k)
        indptr[u + 1] = k
    return indptr, indices[:k].copy(), data[:k].copy()
