#!/usr/bin/env python3
"""The k-means steps of CudaKernelBenchmark in PyTorch, on the same GPU and the same sizes.

Inputs are generated on the device (fp16 Laplace(0, 0.02) weights, fp16 uniform(0, 1)
sensitivities), as the JMH benchmark has its tensor resident on the device. Each step is timed
with CUDA events (median of --repeat runs after --warmup), and the results are printed as one JSON
object (also written to --out). Two PyTorch formulations per scalar step:

  histogram   bincount of the fp16 bit patterns weighted by the sensitivities (per group for
              the grouped case: pattern + 65536 * group)
  assign      'bucketize': searchsorted over the sorted LUT's midpoints, plus the weighted squared
              error (what our kernel returns); 'argmin': the |x - c| distance matrix and argmin in
              chunks, the usual PyTorch k-means assignment (kmeans_pytorch, fast_pytorch_kmeans)
  vector      cluster_dim 4, 256 entries: assignment by cdist + argmin in chunks, and Lloyd's
              centroid sums by index_add_

Usage: python3 benchmarks/peers/torch_kmeans.py [--cases per-tensor-1e9,grouped-32-14336x4096,vector-cd4-8bit]
"""
import argparse
import json
import statistics

import torch

BILLION = (244_141, 4096)
MATRIX = (14_336, 4096)
SCALE = 0.02


def laplace(n, gen):
    u = torch.rand(n, device="cuda", generator=gen, dtype=torch.float32) - 0.5
    return (-SCALE * torch.sign(u) * torch.log1p(-2 * u.abs())).half()


def timed(fn, warmup, repeat):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return {"median_ms": statistics.median(times), "min_ms": min(times), "runs": repeat}


def lut(groups, size):
    """Evenly spaced over the weights' bulk, ascending; the same LUT as CudaKernelBenchmark.lut."""
    k = torch.arange(size, device="cuda", dtype=torch.float32)
    return ((k - size // 2 + 0.5) * SCALE * 4 / size).expand(groups, size).contiguous()


def scalar_case(shape, group_rows, args):
    rows, cols = shape
    n = rows * cols
    gen = torch.Generator(device="cuda").manual_seed(42)
    w = laplace(n, gen)
    s = torch.rand(n, device="cuda", generator=gen).half()
    groups = 1 if group_rows is None else rows // group_rows
    per_group = n // groups
    centroids = lut(groups, 16)
    mids = (centroids[:, :-1] + centroids[:, 1:]) * 0.5
    group_of = None if groups == 1 else (torch.arange(n, device="cuda") // per_group)

    def histogram():
        keys = w.view(torch.int16).to(torch.int32) & 0xFFFF
        if group_of is not None:
            keys = keys + group_of.to(torch.int32) * 65536
        return torch.bincount(keys, weights=s.float(), minlength=groups * 65536)

    def assign_bucketize():
        x = w.float().view(groups, per_group)
        idx = torch.searchsorted(mids, x)
        err = x - torch.gather(centroids, 1, idx)
        return idx.to(torch.uint8), (s.float().view(groups, per_group) * err * err).sum(dtype=torch.float64)

    def assign_argmin(chunk=1 << 26):
        x = w.float().view(groups, per_group)
        out = torch.empty((groups, per_group), dtype=torch.uint8, device="cuda")
        for g in range(groups):
            for a in range(0, per_group, chunk):
                part = x[g, a:a + chunk]
                out[g, a:a + chunk] = (part[:, None] - centroids[g][None, :]).abs().argmin(dim=1).to(torch.uint8)
        return out

    result = {"elements": n, "groups": groups}
    result["histogram_bincount"] = timed(histogram, args.warmup, args.repeat)
    result["assign_bucketize"] = timed(assign_bucketize, args.warmup, args.repeat)
    result["assign_argmin"] = timed(assign_argmin, args.warmup, args.repeat)
    return result


def vector_case(args):
    rows, cols = MATRIX
    n = rows * cols
    gen = torch.Generator(device="cuda").manual_seed(42)
    # cluster_dim 4 along the output channels: vector (r, c) = rows 4r..4r+3 of column c.
    x = laplace(n, gen).float().view(rows // 4, 4, cols).permute(0, 2, 1).reshape(-1, 4).contiguous()
    centroids = lut(1, 256)[0][:, None].expand(256, 4).contiguous()
    idx = torch.empty(x.shape[0], dtype=torch.int64, device="cuda")

    def assign(chunk=1 << 22):
        for a in range(0, x.shape[0], chunk):
            idx[a:a + chunk] = torch.cdist(x[a:a + chunk], centroids).argmin(dim=1)
        return idx

    def centroid_sums():
        sums = torch.zeros((256, 4), dtype=torch.float64, device="cuda").index_add_(0, idx, x.double())
        counts = torch.bincount(idx, minlength=256)
        return sums, counts

    assign()
    return {"elements": n, "vectors": x.shape[0], "assign_cdist_argmin": timed(assign, args.warmup, args.repeat),
            "centroid_sums_index_add": timed(centroid_sums, args.warmup, args.repeat)}


def bandwidth(args):
    """The copy ceiling of this card: a 4 GiB device-to-device copy, bytes read plus bytes written."""
    src = torch.rand(1 << 30, device="cuda")
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src), args.warmup, args.repeat)
    t["gb_per_s"] = 2 * src.numel() * 4 / (t["median_ms"] * 1e6)
    return t


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="per-tensor-1e9,grouped-32-14336x4096,vector-cd4-8bit")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args()
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "copy": bandwidth(args), "cases": {}}
    torch.cuda.empty_cache()
    for case in args.cases.split(","):
        if case == "per-tensor-1e9":
            out["cases"][case] = scalar_case(BILLION, None, args)
        elif case == "grouped-32-14336x4096":
            out["cases"][case] = scalar_case(MATRIX, 32, args)
        elif case == "vector-cd4-8bit":
            out["cases"][case] = vector_case(args)
        else:
            raise SystemExit(f"unknown case {case!r}")
        torch.cuda.empty_cache()
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
