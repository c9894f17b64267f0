#!/usr/bin/env python3
"""The NumPy peer of the cold-start benchmark (ColdStart): per-tensor n-bit palettization of a safetensors
file, the coremltools-style fast path written plainly in NumPy, as a user would script it.

For each F32 or F16 tensor of two or more dimensions and more than 2048 elements (others are copied):
  1. fast mode: cast to fp16, round to --rounding-precision decimals;
  2. np.unique with counts;
  3. optimal weighted 1-D k-means over the distinct values (the dynamic program with prefix sums, each
     layer's monotone argmin found by divide and conquer, vectorized level by level);
  4. the LUT is the clusters' means; every exact value gets the index of its nearest LUT entry
     (searchsorted over the midpoints); indices are packed n bits each, little end first;
  5. writes a safetensors file with <name>.lut (F32) and <name>.indices (U8, packed) per tensor.

Usage: python3 benchmarks/peers/numpy_palettize.py IN.safetensors OUT.safetensors [--bits 4] [--rounding-precision 4]
Prints one JSON line: tensors written, elements palettized, distinct values clustered, the SNR in dB (as
our report computes it: signal power over squared error), seconds in-process after the imports.
"""
import argparse
import json
import struct
import sys
import time

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16}
WEIGHT_THRESHOLD = 2048


def read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] not in DTYPES:
            sys.exit(f"numpy_palettize: {path}: tensor {name!r} has dtype {meta['dtype']}; this peer reads F32 and F16")
        start, end = meta["data_offsets"]
        tensors[name] = data[start:end].view(DTYPES[meta["dtype"]]).reshape(meta["shape"])
    return tensors


def optimal_kmeans_1d(values, weights, k):
    """Exact weighted k-means of sorted distinct values: returns the k cluster start indices."""
    n = len(values)
    k = min(k, n)
    w = np.concatenate(([0.0], np.cumsum(weights, dtype=np.float64)))
    s = np.concatenate(([0.0], np.cumsum(weights * values, dtype=np.float64)))
    q = np.concatenate(([0.0], np.cumsum(weights * values * values, dtype=np.float64)))

    def cost(a, b):  # the cluster holding values[a:b]
        sw = w[b] - w[a]
        ss = s[b] - s[a]
        return np.maximum(q[b] - q[a] - ss * ss / sw, 0.0)

    ends = np.arange(n + 1)
    best = np.full(n + 1, np.inf)
    best[1:] = cost(np.zeros(n, dtype=np.int64), ends[1:])
    starts = [np.zeros(n + 1, dtype=np.int64)]
    for j in range(2, k + 1):
        layer = np.full(n + 1, np.inf)
        arg = np.zeros(n + 1, dtype=np.int64)
        # Segments of ends [blo, bhi] whose argmin lies in [alo, ahi]; each level solves every segment's middle.
        blo, bhi = np.array([j]), np.array([n])
        alo, ahi = np.array([j - 1]), np.array([n - 1])
        while len(blo):
            mid = (blo + bhi) // 2
            hi = np.minimum(ahi, mid - 1)
            count = hi - alo + 1
            seg = np.repeat(np.arange(len(mid)), count)
            offsets = np.concatenate(([0], np.cumsum(count)[:-1]))
            a = np.arange(count.sum()) - np.repeat(offsets, count) + np.repeat(alo, count)
            b = np.repeat(mid, count)
            total = best[a] + cost(a, b)
            order = np.lexsort((a, total, seg))
            first = order[np.concatenate(([0], np.cumsum(count)[:-1]))]
            layer[mid] = total[first]
            arg[mid] = a[first]
            left = blo <= mid - 1
            right = mid + 1 <= bhi
            blo, bhi, alo, ahi = (np.concatenate((blo[left], mid[right] + 1)),
                                  np.concatenate((mid[left] - 1, bhi[right])),
                                  np.concatenate((alo[left], arg[mid][right])),
                                  np.concatenate((arg[mid][left], ahi[right])))
        best = layer
        starts.append(arg)
    # starts[j - 1][b]: where the last of j clusters over values[:b] begins; walk back from b = n.
    bounds = [n]
    for j in range(k, 1, -1):
        bounds.append(starts[j - 1][bounds[-1]])
    bounds.append(0)
    return np.array(bounds[::-1][:-1])


def palettize(weights, bits, decimals):
    flat = weights.reshape(-1)
    rounded = np.round(flat.astype(np.float16).astype(np.float32), decimals)
    values, counts = np.unique(rounded, return_counts=True)
    k = 1 << bits
    first = optimal_kmeans_1d(values.astype(np.float64), counts.astype(np.float64), k)
    edges = np.append(first, len(values))
    lut = np.array([np.average(values[a:b], weights=counts[a:b]) for a, b in zip(edges[:-1], edges[1:])],
                   dtype=np.float32)
    lut = np.pad(lut, (0, k - len(lut)), mode="edge")
    indices = np.searchsorted((lut[1:] + lut[:-1]) / 2, flat).astype(np.uint8)
    per_byte = 8 // bits
    indices = np.pad(indices, (0, -len(indices) % per_byte))
    packed = np.zeros(len(indices) // per_byte, dtype=np.uint8)
    for slot in range(per_byte):
        packed |= indices[slot::per_byte] << (slot * bits)
    error = flat - lut[indices[:len(flat)]]
    snr = 10 * np.log10(np.einsum("i,i->", flat, flat, dtype=np.float64) / np.einsum("i,i->", error, error, dtype=np.float64))
    return lut, packed, len(values), snr


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for raw in blobs:
            f.write(raw)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--bits", type=int, default=4, choices=[1, 2, 4, 8])
    parser.add_argument("--rounding-precision", type=int, default=4)
    args = parser.parse_args()
    started = time.perf_counter()
    out, elements, distinct, snrs = {}, 0, 0, []
    for name, weights in read_safetensors(args.input).items():
        if weights.size <= WEIGHT_THRESHOLD or weights.ndim < 2:
            out[name] = ({np.float32: "F32", np.float16: "F16"}[weights.dtype.type], np.asarray(weights))
            continue
        lut, packed, d, snr = palettize(weights, args.bits, args.rounding_precision)
        snrs.append(round(float(snr), 2))
        out[name + ".lut"] = ("F32", lut)
        out[name + ".indices"] = ("U8", packed)
        elements += weights.size
        distinct += d
    write_safetensors(args.output, out)
    print(json.dumps({"tensors": len(out), "elements": elements, "distinct": distinct,
                      "snr_db": snrs, "seconds": round(time.perf_counter() - started, 3)}))


if __name__ == "__main__":
    main()
