#!/usr/bin/env python3
"""Benchmarks checkpointctl against tar/zstd on the same data, in one run, and prints the ratios.

Data: a kubelet checkpoint directory with --pods sandbox archives totalling --size MiB (default 1 GiB), each a
real tar of CRIU-like files: a quarter random bytes, a quarter zero pages, half pieces of the system's own
binaries (compressible like real process memory). It is made once under --data and reused.
"""
import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

MIB = 1 << 20


def system_binary_pool(limit=64 * MIB):
    pool = bytearray()
    for root in ("/usr/lib/x86_64-linux-gnu", "/usr/lib", "/usr/bin"):
        for dirpath, _, names in os.walk(root):
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                try:
                    with open(path, "rb") as f:
                        pool += f.read(4 * MIB)
                except OSError:
                    continue
                if len(pool) >= limit:
                    return bytes(pool[:limit])
    return bytes(pool)


def make_sandbox(path, size, pool, rng):
    """Writes a tar whose members look like a checkpoint: pages images plus small metadata files."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = 1_764_000_000
            tar.addfile(info, io.BytesIO(data))

        add("config.dump", json.dumps({"id": os.path.basename(path), "rootfsImageName": "bench"}).encode())
        add("spec.dump", b"{}")
        written = 0
        index = 1
        while written < size:
            part = min(32 * MIB, size - written)
            chunks = []
            for _ in range(part // (1 * MIB)):
                kind = rng.random()
                if kind < 0.25:
                    chunks.append(os.urandom(MIB))
                elif kind < 0.5:
                    chunks.append(bytes(MIB))
                else:
                    start = rng.randrange(0, max(1, len(pool) - MIB))
                    chunks.append(pool[start:start + MIB])
            data = b"".join(chunks)
            add(f"checkpoint/pages-{index}.img", data)
            written += len(data)
            index += 1


def make_store(directory, pods, size):
    marker = os.path.join(directory, ".complete")
    if os.path.exists(marker):
        with open(marker) as f:
            if f.read() == f"{pods} {size}":
                return
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    rng = random.Random(42)
    pool = system_binary_pool()
    metadata = {"version": 1, "CheckpointedPods": []}
    for index in range(pods):
        sandbox = f"{index:02d}" + "b7e1c3a9d5f4" * 5
        metadata["CheckpointedPods"].append({
            "io.kubernetes.pod.uid": f"uid-{index}", "SandboxID": sandbox,
            "io.kubernetes.pod.name": f"bench-{index}", "io.kubernetes.pod.namespace": "default",
            "Containers": [{"io.kubernetes.container.name": "app", "id": f"c{index}", "Image": "bench:1"}],
        })
        make_sandbox(os.path.join(directory, sandbox + ".tar"), size * MIB // pods, pool, rng)
    with open(os.path.join(directory, "checkpointed.pods"), "w") as f:
        json.dump(metadata, f, indent=2)
    with open(marker, "w") as f:
        f.write(f"{pods} {size}")


def run(argv):
    """Runs a command; returns (seconds, its peak RSS in MiB as GNU time reports it)."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        status = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", report.name, *argv], stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if status != 0:
            sys.exit(f"command failed ({status}): {' '.join(argv)}")
        return seconds, int(report.read().split()[-1]) / 1024


def measure(label, ours, reference, prepare, repeat):
    ours_times, ref_times, rss = [], [], []
    for _ in range(repeat):
        prepare()
        seconds, peak = ours()
        ours_times.append(seconds)
        rss.append(peak)
        prepare()
        ref_times.append(reference()[0])
    ours_s, ref_s = statistics.median(ours_times), statistics.median(ref_times)
    return {"benchmark": label, "checkpointctl_s": ours_s, "reference_s": ref_s, "ratio": ours_s / ref_s,
            "peak_rss_mib": max(rss)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=".build/release/checkpointctl")
    parser.add_argument("--data", default=".build/bench-data")
    parser.add_argument("--size", type=int, default=1024, help="MiB of sandbox archives")
    parser.add_argument("--pods", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    binary = os.path.abspath(args.binary)
    data = os.path.abspath(args.data)
    store = os.path.join(data, "store")
    work = os.path.join(data, "work")
    make_store(store, args.pods, args.size)
    members = sorted(name for name in os.listdir(store) if not name.startswith("."))
    total = sum(os.path.getsize(os.path.join(store, name)) for name in members)
    print(f"data: {len(members) - 1} pod archives, {total / MIB:.0f} MiB in {store}")

    def clean():
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)

    results = []
    ours_zst = os.path.join(work, "ours.tar.zst")
    ref_zst = os.path.join(work, "ref.tar.zst")
    results.append(measure(
        "extract (zstd)",
        lambda: run([binary, "extract", "-t", store, "-o", ours_zst, "-c", "zstd"]),
        lambda: run(["tar", "-I", "zstd", "-cf", ref_zst, "-C", store, *members]),
        clean, args.repeat))

    # One archive for the insert runs, made by our extract; tar reads the same file.
    archive = os.path.join(data, "store.tar.zst")
    if not os.path.exists(archive):
        run([binary, "extract", "-t", store, "-o", archive, "-c", "zstd"])

    def fresh_target():
        clean()
        os.makedirs(os.path.join(work, "tar"))

    results.append(measure(
        "insert (zstd)",
        lambda: run([binary, "insert", "-i", archive, "-t", os.path.join(work, "ours")]),
        lambda: run(["tar", "-xf", archive, "-C", os.path.join(work, "tar")]),
        fresh_target, args.repeat))
    results.append(measure(
        "show (zstd archive)",
        lambda: run([binary, "show", "-t", archive]),
        lambda: run(["tar", "-tf", archive]),
        lambda: None, args.repeat))

    print(f"{'benchmark':<22} {'checkpointctl':>14} {'reference':>10} {'ratio':>7} {'peak RSS':>10}")
    for r in results:
        print(f"{r['benchmark']:<22} {r['checkpointctl_s']:>13.2f}s {r['reference_s']:>9.2f}s "
              f"{r['ratio']:>6.2f}x {r['peak_rss_mib']:>7.1f} MiB")
    print("references: extract = tar -I zstd -cf; insert = tar -xf; show = tar -tf (same files, same run)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
