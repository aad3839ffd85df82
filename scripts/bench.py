#!/usr/bin/env python3
"""Benchmarks checkpointctl against tar/zstd on the same data, in one run, and prints the ratios.

Data: a kubelet checkpoint directory with --pods sandbox archives totalling --size MiB (default 1 GiB), each a
real tar of CRIU-like files: a quarter random bytes, a quarter zero pages, half pieces of the system's own
binaries (compressible like real process memory). It is made once under --data and reused.
"""
import argparse
import hashlib
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

MIB = 1 << 20
NEEDLE = b"BENCH_NEEDLE_4f2a9c"


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


def write_realistic(f, size, pool, rng):
    """Writes `size` bytes: a quarter random, a quarter zero pages, half pieces of system binaries."""
    written = 0
    while written < size:
        kind = rng.random()
        if kind < 0.25:
            chunk = os.urandom(MIB)
        elif kind < 0.5:
            chunk = bytes(MIB)
        else:
            start = rng.randrange(0, max(1, len(pool) - MIB))
            chunk = pool[start:start + MIB]
        chunk = chunk[:size - written]
        f.write(chunk)
        written += len(chunk)


def encode(binary, document, path):
    subprocess.run([binary, "encode", "-o", path], input=json.dumps(document).encode(), check=True)


def make_checkpoint(binary, directory, size):
    """A CRIU image directory of one process with `size` MiB of pages, built with our own encoder."""
    marker = os.path.join(directory, ".complete")
    if os.path.exists(marker) and open(marker).read() == f"{size} v3":
        return
    shutil.rmtree(directory, ignore_errors=True)
    images = os.path.join(directory, "images", "checkpoint")
    os.makedirs(images)
    base = 0x7F00_0000_0000
    pages = size * MIB // 4096
    encode(binary, {"magic": "PSTREE", "entries": [{"pid": 1, "ppid": 0, "pgid": 1, "sid": 1, "threads": [1]}]},
           os.path.join(images, "pstree.img"))
    # Registers as CRIU saves them (coredump needs them for NT_PRSTATUS).
    gpregs = {name: 0 for name in ("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx",
                                   "dx", "si", "di", "orig_ax", "cs", "flags", "ss", "fs_base", "gs_base", "ds",
                                   "es", "fs", "gs")}
    gpregs.update({"ip": 0x401000, "sp": base + 0x1000, "cs": 0x33, "ss": 0x2b, "flags": 0x246})
    fpregs = {"cwd": 0x37f, "swd": 0, "twd": 0, "fop": 0, "rip": 0, "rdp": 0, "mxcsr": 0x1f80, "mxcsr_mask": 0xffff,
              "st_space": [0] * 32, "xmm_space": [0] * 64}
    core = {"mtype": "X86_64", "thread_info": {"clear_tid_addr": 0, "gpregs": gpregs, "fpregs": fpregs},
            "tc": {"task_state": 1, "comm": "bench"}}
    encode(binary, {"magic": "CORE", "entries": [core]}, os.path.join(images, "core-1.img"))
    vma = {"start": base, "end": base + pages * 4096, "pgoff": 0, "shmid": 0, "prot": 3, "flags": 34,
           "status": 513, "fd": -1}
    encode(binary, {"magic": "MM", "entries": [{"vmas": [vma]}]}, os.path.join(images, "mm-1.img"))
    entries = [{"pages_id": 1}]
    for first in range(0, pages, 256):
        entries.append({"vaddr": base + first * 4096, "flags": 4, "nr_pages": min(256, pages - first)})
    encode(binary, {"magic": "PAGEMAP", "entries": entries}, os.path.join(images, "pagemap-1.img"))
    with open(os.path.join(images, "pages-1.img"), "wb") as f:
        write_realistic(f, pages * 4096, system_binary_pool(), random.Random(7))
        # A needle a few times, one of them across a 1 MiB boundary.
        for offset in (12345, 300 * MIB + 77, 700 * MIB - 9, pages * 4096 - 100):
            f.seek(offset)
            f.write(NEEDLE)
    # Container metadata from a real Podman checkpoint, so show and inspect can read the archive.
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "busybox-sleep.tar")
    with tarfile.open(fixture) as source:
        for name in ("config.dump", "spec.dump", "stats-dump"):
            with open(os.path.join(directory, "images", name), "wb") as f:
                f.write(source.extractfile(name).read())
    pack(directory)
    with open(marker, "w") as f:
        f.write(f"{size} v3")


def pack(directory):
    """checkpoint.tar and checkpoint.tar.zst of `directory`/images, as Podman lays a checkpoint out."""
    plain = os.path.join(directory, "checkpoint.tar")
    with tarfile.open(plain, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("config.dump", "spec.dump", "stats-dump", "checkpoint"):
            tar.add(os.path.join(directory, "images", name), arcname=name)
    subprocess.run(["zstd", "-q", "-f", plain, "-o", plain + ".zst"], check=True)


def make_image_directory(source, directory, copies):
    """A directory of 4 x `copies` real images (core, mm, pagemap, fdinfo of a fixture, renamed)."""
    if os.path.isdir(directory) and len(os.listdir(directory)) >= 4 * copies:
        return
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    shutil.copy(os.path.join(source, "inventory.img"), directory)
    for name in ("core", "mm", "pagemap", "fdinfo"):
        data = open(os.path.join(source, f"{name}-{'2' if name == 'fdinfo' else '1'}.img"), "rb").read()
        for index in range(1, copies + 1):
            with open(os.path.join(directory, f"{name}-{index}.img"), "wb") as f:
                f.write(data)


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


def wall_ms(argv, repeat=60):
    """Median wall time of `argv` in milliseconds, started directly (no /usr/bin/time in between)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bytes_read(argv):
    """Bytes the command reads with read/pread (loader included), counted by strace; None without strace."""
    if not shutil.which("strace"):
        return None
    with tempfile.NamedTemporaryFile(mode="r") as trace:
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=read,pread64,readv,preadv", "-o", trace.name, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        total = 0
        for line in trace:
            result = line.rsplit("=", 1)[-1].split()
            if result and result[0].isdigit():
                total += int(result[0])
        return total


def startup_report(binary, plain):
    """`show` of an uncompressed archive against `tar -tvf`: whole runs, process start, and what is left."""
    ours, tar = wall_ms([binary, "show", plain]), wall_ms(["tar", "-tvf", plain])
    ours_start, tar_start = wall_ms([binary, "--version"]), wall_ms(["tar", "--version"])
    print(f"show (tar) in detail, medians of 60 runs:")
    print(f"  whole run        checkpointctl {ours:6.2f} ms   tar -tvf      {tar:6.2f} ms   ratio {ours / tar:5.2f}x")
    print(f"  process start    --version     {ours_start:6.2f} ms   tar --version {tar_start:6.2f} ms")
    work, tar_work = max(ours - ours_start, 0.01), max(tar - tar_start, 0.01)
    print(f"  beyond start     checkpointctl {work:6.2f} ms   tar -tvf      {tar_work:6.2f} ms   ratio {work / tar_work:5.2f}x")
    ours_read, tar_read = bytes_read([binary, "show", plain]), bytes_read(["tar", "-tvf", plain])
    if ours_read is not None:
        size = os.path.getsize(plain)
        print(f"  bytes read       checkpointctl {ours_read / 1024:6.0f} KiB  tar -tvf      {tar_read / 1024:6.0f} KiB"
              f"  (archive: {size / MIB:.0f} MiB)")


def duration(seconds):
    """Seconds with two decimals, or milliseconds under a tenth of a second."""
    return f"{seconds * 1000:.1f}ms" if seconds < 0.1 else f"{seconds:.2f}s"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default=".build/release/checkpointctl")
    parser.add_argument("--data", default=".build/bench-data")
    parser.add_argument("--size", type=int, default=1024, help="MiB of sandbox archives")
    parser.add_argument("--pods", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30, help="runs of each start-up command")
    parser.add_argument("--only", choices=["kubelet", "criu", "coredump", "diff", "build", "startup", "stream",
                                            "verify", "pod", "scan"],
                        help="run one group of benchmarks")
    args = parser.parse_args()
    if args.only == "startup":
        startup_benchmarks(args)
        return
    if args.only == "stream":
        stream_benchmarks(args)
        return
    results = []
    if args.only in (None, "kubelet"):
        results += kubelet_benchmarks(args)
    if args.only in (None, "criu"):
        results += criu_benchmarks(args)
    if args.only in (None, "coredump"):
        results += coredump_benchmarks(args)
    if args.only in (None, "diff"):
        results += diff_benchmarks(args)
    if args.only in (None, "build"):
        results += build_benchmarks(args)
    if args.only in (None, "verify"):
        results += verify_benchmarks(args)
    if args.only in (None, "pod"):
        results += pod_benchmarks(args)
    if args.only in (None, "scan"):
        results += scan_benchmarks(args)
    print(f"{'benchmark':<34} {'checkpointctl':>14} {'reference':>10} {'ratio':>7} {'peak RSS':>10}")
    for r in results:
        print(f"{r['benchmark']:<34} {duration(r['checkpointctl_s']):>14} {duration(r['reference_s']):>10} "
              f"{r['ratio']:>6.2f}x {r['peak_rss_mib']:>7.1f} MiB{r.get('note', '')}")
    if args.only in (None, "criu"):
        startup_report(os.path.abspath(args.binary),
                       os.path.join(os.path.abspath(args.data), "checkpoint-1g", "checkpoint.tar"))


def criu_benchmarks(args):
    binary = os.path.abspath(args.binary)
    data = os.path.abspath(args.data)
    checkpoint = os.path.join(data, "checkpoint-1g")
    make_checkpoint(binary, checkpoint, args.size)
    images = os.path.join(data, "images-10000")
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "raw", "piggie")
    make_image_directory(fixtures, images, 2500)
    pages = os.path.join(checkpoint, "images", "checkpoint", "pages-1.img")
    count = len(os.listdir(images))
    print(f"data: {count} images in {images}; {os.path.getsize(pages) / MIB:.0f} MiB of pages in {checkpoint}")
    results = []
    results.append(measure(
        f"decode DIR ({count} images)",
        lambda: run([binary, "decode", images]),
        lambda: run(["sh", "-c", f"cat {images}/* > /dev/null"]),
        lambda: None, args.repeat))
    results.append(measure(
        "memparse --raw (1 GiB, reader)",
        lambda: run([binary, "memparse", "--pid", "1", "--raw", os.path.join(checkpoint, "images")]),
        lambda: run(["cat", pages]),
        lambda: None, args.repeat))
    out = os.path.join(data, "dump.txt")
    def settle():
        # Each run starts with no earlier dump and no dirty pages left (the dump is 5.4 GiB of text).
        if os.path.exists(out):
            os.remove(out)
        subprocess.run(["sync"], check=True)

    hex_result = measure(
        "memparse --pid -o (hexdump)",
        lambda: run([binary, "memparse", "--pid", "1", "-o", out, os.path.join(checkpoint, "images")]),
        lambda: run(["cat", pages]),
        settle, args.repeat)
    hex_result["note"] = f"  ({os.path.getsize(pages) / MIB / hex_result['checkpointctl_s']:.0f} MiB/s of memory)"
    settle()
    results.append(hex_result)
    needle = NEEDLE.decode()
    plain = os.path.join(checkpoint, "checkpoint.tar")
    packed = os.path.join(checkpoint, "checkpoint.tar.zst")
    results.append(measure(
        "memparse --search (tar)",
        lambda: run([binary, "memparse", "--search", needle, plain]),
        lambda: run(["sh", "-c", f"tar -xOf {plain} --wildcards 'checkpoint/pages-*' | grep -c -a {needle}"]),
        lambda: None, args.repeat))
    results.append(measure(
        "memparse --search (tar.zst)",
        lambda: run([binary, "memparse", "--search", needle, packed]),
        lambda: run(["sh", "-c", f"zstd -dc {packed} | tar -xOf - --wildcards 'checkpoint/pages-*' | grep -c -a {needle}"]),
        lambda: None, args.repeat))
    results.append(measure(
        "show (tar, 1 GiB of pages)",
        lambda: run([binary, "show", plain]),
        lambda: run(["tar", "-tvf", plain]),
        lambda: None, args.repeat))
    results.append(measure(
        "show (tar.zst, 1 GiB of pages)",
        lambda: run([binary, "show", packed]),
        lambda: run(["sh", "-c", f"zstd -dc {packed} > /dev/null"]),
        lambda: None, args.repeat))
    results.append(measure(
        "inspect --all (tar)",
        lambda: run([binary, "inspect", "--all", plain]),
        lambda: run(["tar", "-tvf", plain]),
        lambda: None, args.repeat))
    results.append(measure(
        "inspect --all (tar.zst)",
        lambda: run([binary, "inspect", "--all", packed]),
        lambda: run(["sh", "-c", f"zstd -dc {packed} > /dev/null"]),
        lambda: None, args.repeat))
    print("references: decode = cat of the same images; memparse --raw/-o = cat of the pages file;")
    print("            search = tar -xOf (after zstd -dc) | grep -c -a of the same archive;")
    print("            show, inspect = tar -tvf (tar) and zstd -dc > /dev/null (tar.zst) of the same archive")
    return results


def coredump_benchmarks(args):
    """coredump of the 1 GiB process against extracting its pages with tar (after zstd -dc) into a file."""
    binary, data, plain = one_gib_checkpoint(args)
    packed = plain + ".zst"
    cores = os.path.join(data, "cores")
    pages = os.path.join(data, "pages.out")

    def settle():
        # Each run starts with no earlier output and no dirty pages left.
        shutil.rmtree(cores, ignore_errors=True)
        os.makedirs(cores)
        if os.path.exists(pages):
            os.remove(pages)
        subprocess.run(["sync"], check=True)

    results = []
    for label, archive, extract in (
            ("coredump (tar, 1 GiB)", plain, f"tar -xOf {plain} --wildcards 'checkpoint/pages-*' > {pages}"),
            ("coredump (tar.zst, 1 GiB)", packed,
             f"zstd -dc {packed} | tar -xOf - --wildcards 'checkpoint/pages-*' > {pages}")):
        result = measure(
            label,
            lambda archive=archive: run([binary, "coredump", "-o", cores, archive]),
            lambda extract=extract: run(["sh", "-c", extract]),
            settle, args.repeat)
        core = os.path.join(cores, "core.1")
        if os.path.exists(core):
            info = os.stat(core)
            result["note"] = f"  (core {info.st_size / MIB:.0f} MiB, {info.st_blocks * 512 / MIB:.0f} MiB on disk)"
        results.append(result)
    settle()
    shutil.rmtree(cores, ignore_errors=True)
    print("references: coredump = tar -xOf ARCHIVE 'checkpoint/pages-*' > file (zstd -dc | tar for tar.zst);")
    print("            the core is fsynced before it is renamed into place, the reference file is not")
    return results


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_registry(directory):
    """Debian's docker-registry on 127.0.0.1 with its storage under `directory`; returns (process, host)."""
    port = free_port()
    os.makedirs(directory, exist_ok=True)
    config = os.path.join(directory, "config.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {directory}/storage\n"
                f"http:\n  addr: 127.0.0.1:{port}\n")
    process = subprocess.Popen(["docker-registry", "serve", config], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"127.0.0.1:{port}"
        time.sleep(0.025)
    process.kill()
    sys.exit("docker-registry did not start")


def one_gib_checkpoint(args):
    """The binary, the data directory and the 1 GiB checkpoint's archive (made once)."""
    binary = os.path.abspath(args.binary)
    data = os.path.abspath(args.data)
    checkpoint = os.path.join(data, "checkpoint-1g")
    make_checkpoint(binary, checkpoint, args.size)
    return binary, data, os.path.join(checkpoint, "checkpoint.tar")


def build_benchmarks(args):
    """build of the 1 GiB checkpoint to an OCI archive (gzip, zstd) and to a registry, against compressing the
    archive with gzip -c / zstd -3 -c (and then uploading our gzip image with skopeo copy)."""
    binary, data, plain = one_gib_checkpoint(args)
    image = os.path.join(data, "image.oci.tar")
    reference = os.path.join(data, "reference.out")

    def settle():
        for path in (image, reference):
            if os.path.exists(path):
                os.remove(path)
        subprocess.run(["sync"], check=True)

    results = []
    for compression, command in (("gzip", f"gzip -c {plain} > {reference}"),
                                 ("zstd", f"zstd -3 -q -c {plain} > {reference}")):
        results.append(measure(
            f"build oci-archive ({compression}, 1 GiB)",
            lambda compression=compression: run(
                [binary, "build", "--compression", compression, plain, f"oci-archive:{image}:v1"]),
            lambda command=command: run(["sh", "-c", command]),
            settle, args.repeat))
    if shutil.which("docker-registry") and shutil.which("skopeo"):
        registry_dir = tempfile.mkdtemp(prefix="bench-registry-", dir=data)
        process, host = start_registry(registry_dir)
        gzip_image = os.path.join(data, "gzip-image.oci.tar")
        try:
            run([binary, "build", plain, f"oci-archive:{gzip_image}:v1"])
            counter = iter(range(1000))
            # Each push goes to a new repository, so no blob is already there.
            results.append(measure(
                "build docker:// (gzip, 1 GiB)",
                lambda: run([binary, "build", "--tls-verify=false", plain, f"docker://{host}/ours{next(counter)}:v1"]),
                lambda: run(["sh", "-c", f"gzip -c {plain} > {reference} && skopeo copy -q --dest-tls-verify=false "
                             f"oci-archive:{gzip_image}:v1 docker://{host}/reference{next(counter)}:v1"]),
                settle, args.repeat))
        finally:
            process.kill()
            process.wait()
            shutil.rmtree(registry_dir, ignore_errors=True)
            if os.path.exists(gzip_image):
                os.remove(gzip_image)
    settle()
    print("references: build oci-archive = gzip -c / zstd -3 -c of the checkpoint archive into a file;")
    print("            build docker:// = gzip -c of the archive, then skopeo copy of the same gzip image to the")
    print("            registry (docker-registry on 127.0.0.1, a new repository for every push)")
    return results


def make_changed_copy(checkpoint):
    """The 1 GiB checkpoint again with 64 pages rewritten in its last MiB (so cmp reads nearly all of it)."""
    directory = os.path.join(checkpoint, "changed")
    marker = os.path.join(directory, ".complete")
    # Made again whenever the checkpoint it copies is.
    version = "v1 " + open(os.path.join(checkpoint, ".complete")).read()
    if os.path.exists(marker) and open(marker).read() == version:
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(os.path.join(checkpoint, "images"), os.path.join(directory, "images"))
    pages = os.path.join(directory, "images", "checkpoint", "pages-1.img")
    size = os.path.getsize(pages)
    with open(pages, "r+b") as f:
        for page in range(64):
            f.seek(size - MIB + page * 4096 + 100)
            f.write(b"CHANGED!" * 8)
    pack(directory)
    with open(marker, "w") as f:
        f.write(version)
    return directory


def diff_benchmarks(args):
    """diff --pages of the 1 GiB checkpoint against a copy with 64 changed pages."""
    binary = os.path.abspath(args.binary)
    checkpoint = os.path.join(os.path.abspath(args.data), "checkpoint-1g")
    make_checkpoint(binary, checkpoint, args.size)
    repeat = args.repeat
    changed = make_changed_copy(checkpoint)
    pages_a = os.path.join(checkpoint, "images", "checkpoint", "pages-1.img")
    pages_b = os.path.join(changed, "images", "checkpoint", "pages-1.img")
    plain_a, plain_b = os.path.join(checkpoint, "checkpoint.tar"), os.path.join(changed, "checkpoint.tar")
    results = [
        measure("diff --pages (tar)",
                lambda: run([binary, "diff", "--pages", plain_a, plain_b]),
                lambda: run(["sh", "-c", f"cmp {pages_a} {pages_b}; true"]),
                lambda: None, repeat),
        measure("diff --pages (tar.zst)",
                lambda: run([binary, "diff", "--pages", plain_a + ".zst", plain_b + ".zst"]),
                lambda: run(["sh", "-c", f"zstd -dc {plain_a}.zst > /dev/null; zstd -dc {plain_b}.zst > /dev/null"]),
                lambda: None, repeat),
    ]
    print("references: diff --pages = cmp of the two pages files (tar), zstd -dc of both archives (tar.zst)")
    return results


def pages_first(directory):
    """`directory`/images packed with the pages before everything else (as `tar cf` of a directory may list them),
    zstd-compressed; made again whenever the checkpoint is."""
    packed = os.path.join(directory, "pages-first.tar.zst")
    marker = os.path.join(directory, ".complete")
    if os.path.exists(packed) and os.path.getmtime(packed) >= os.path.getmtime(marker):
        return packed
    images = os.path.join(directory, "images")
    plain = os.path.join(directory, "pages-first.tar")
    with tarfile.open(plain, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(os.path.join(images, "checkpoint", "pages-1.img"), arcname="checkpoint/pages-1.img")
        for name in ("config.dump", "spec.dump", "stats-dump"):
            tar.add(os.path.join(images, name), arcname=name)
        for name in sorted(os.listdir(os.path.join(images, "checkpoint"))):
            if name != "pages-1.img":
                tar.add(os.path.join(images, "checkpoint", name), arcname="checkpoint/" + name)
    subprocess.run(["zstd", "-q", "-f", plain, "-o", packed], check=True)
    os.remove(plain)
    return packed


def timed(argv):
    """(wall seconds, user seconds, system seconds, peak RSS in MiB) of `argv`, its output discarded."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        status = subprocess.call(["/usr/bin/time", "-f", "%M %U %S", "-o", report.name, *argv],
                                 stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if status != 0:
            sys.exit(f"command failed ({status}): {' '.join(argv)}")
        rss, user, system = report.read().split()[-3:]
        return seconds, float(user), float(system), int(rss) / 1024


def stream_benchmarks(args):
    """Issue #23: memory commands on the 1 GiB zstd checkpoint in name order (pages streamed, no temporary file)
    and with its pages first (pages buffered in $TMPDIR), each against zstd -dc of the same archive(s)."""
    binary, data, plain = one_gib_checkpoint(args)
    checkpoint = os.path.dirname(plain)
    changed = make_changed_copy(checkpoint)
    out = os.path.join(data, "stream-dump.txt")
    cores = os.path.join(data, "stream-cores")

    def settle():
        shutil.rmtree(cores, ignore_errors=True)
        if os.path.exists(out):
            os.remove(out)
        subprocess.run(["sync"], check=True)

    rows = []
    for order, a, b in (("name order", plain + ".zst", os.path.join(changed, "checkpoint.tar.zst")),
                        ("pages first", pages_first(checkpoint), pages_first(changed))):
        one = ["zstd", "-dc", a]
        two = ["sh", "-c", f"zstd -dc {a} > /dev/null & zstd -dc {b} > /dev/null; wait"]
        for label, ours, reference in (
                ("memparse --search", [binary, "memparse", "--search", NEEDLE.decode(), a], one),
                ("memparse --pid 1 -o", [binary, "memparse", "--pid", "1", "-o", out, a], one),
                ("diff --pages", [binary, "diff", "--pages", a, b], two),
                ("coredump", [binary, "coredump", "-o", cores, a], one)):
            mine, theirs = [], []
            for _ in range(args.repeat):
                settle()
                mine.append(timed(ours))
                settle()
                theirs.append(timed(reference))
            median = lambda runs, index: statistics.median(run[index] for run in runs)
            rows.append((f"{label} ({order})", median(mine, 0), median(mine, 1), median(mine, 2),
                         max(run[3] for run in mine), median(theirs, 0), median(theirs, 1), median(theirs, 2)))
    settle()
    print(f"{'benchmark':<34} {'checkpointctl (user/sys)':>26} {'zstd -dc (user/sys)':>24} {'ratio':>7} "
          f"{'peak RSS':>10}")
    for label, wall, user, system, rss, ref_wall, ref_user, ref_system in rows:
        print(f"{label:<34} {wall:7.2f}s ({user:5.2f}/{system:5.2f}) {ref_wall:7.2f}s ({ref_user:5.2f}/{ref_system:5.2f}) "
              f"{wall / ref_wall:6.2f}x {rss:7.1f} MiB")
    print("references: zstd -dc of the archive to /dev/null (diff: of both archives at once); medians of "
          f"{args.repeat} alternating runs")


def verify_benchmarks(args):
    """`verify` of the 1 GiB checkpoint, one pass: plain against `tar -tvf` (headers read, data skipped by offset,
    images and metadata read in place, pages only sized), zstd against `zstd -dc` (every byte decompressed, pages
    counted as they pass)."""
    binary, data, plain = one_gib_checkpoint(args)
    settle = lambda: subprocess.run(["sync"], check=True)
    return [measure(label, lambda: run(ours), lambda: run(reference), settle, args.repeat)
            for label, ours, reference in (
                ("verify (tar) vs tar -tvf", [binary, "verify", plain], ["tar", "-tvf", plain]),
                ("verify (zstd) vs zstd -dc", [binary, "verify", plain + ".zst"], ["zstd", "-dc", plain + ".zst"]))]


SCAN_RULES = """
rule needle { strings: $n = "%s" condition: $n }
rule elf_header { strings: $e = { 7F 45 4C 46 02 01 01 00 00 00 00 00 00 00 00 00 03 00 3E 00 } condition: #e > 1 }
rule shell_paths { strings: $a = "/bin/sh -c" $b = "/bin/bash -i" condition: any of them }
rule syscall_stub { strings: $c = { 48 31 C0 48 89 ?? 0F 05 } condition: $c }
rule url { strings: $u = /https?:\\/\\/[a-z0-9.-]{4,40}\\/[a-z0-9_]{8,20}\\.php/ condition: $u }
rule aws_key { strings: $k = /AKIA[0-9A-Z]{16}/ condition: $k }
rule private_key { strings: $p = "-----BEGIN OPENSSH PRIVATE KEY-----" condition: $p }
rule wide_marker { strings: $w = "FX_MARKER" wide condition: $w }
rule nocase_word { strings: $n = "mimikatz" nocase condition: $n }
rule xor_marker { strings: $x = { 6A 40 68 00 30 00 00 6A 14 8D 91 } condition: $x }
"""


def scan_benchmarks(args):
    """`scan --rules` (ten rules) of the 1 GiB checkpoint: plain against the `yara` command on a file holding the
    same memory (the pages file: one VMA, every page dumped), zstd against `zstd -dc` then that `yara` run."""
    binary, data, plain = one_gib_checkpoint(args)
    rules = os.path.join(data, "bench.yar")
    with open(rules, "w") as f:
        f.write(SCAN_RULES % NEEDLE.decode())
    pages = os.path.join(os.path.dirname(plain), "images", "checkpoint", "pages-1.img")
    settle = lambda: subprocess.run(["sync"], check=True)
    # scan exits 2 when a rule matches (the needle does): run() wants 0, so the status is dropped here.
    ours = lambda path: ["sh", "-c", f"{binary} scan --rules {rules} {path} > /dev/null 2>&1; [ $? = 2 ]"]
    return [measure(label, lambda: run(mine), lambda: run(reference), settle, args.repeat)
            for label, mine, reference in (
                ("scan --rules (tar) vs yara", ours(plain), ["yara", rules, pages]),
                ("scan --rules (zstd) vs zstd+yara", ours(plain + ".zst"),
                 ["sh", "-c", f"zstd -dc {plain}.zst > /dev/null && yara {rules} {pages} > /dev/null"]))]


def make_pod(data, archives):
    """A CRI-O pod checkpoint (KEP-5823 version 1) of `archives`, hard-linked under their derived names."""
    pod = os.path.join(data, "pod-2g")
    shutil.rmtree(pod, ignore_errors=True)
    os.makedirs(os.path.join(pod, "containers"), mode=0o700)
    containers = []
    for number, archive in enumerate(archives):
        container_id = hashlib.sha256(f"bench-{number}".encode()).hexdigest()
        name = "containers/" + hashlib.sha256(container_id.encode()).hexdigest() + ".tar"
        os.link(archive, os.path.join(pod, name))
        digest = hashlib.sha256()
        with open(archive, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        containers.append({"name": f"app-{number}", "id": container_id, "archive": name,
                           "sha256": digest.hexdigest(), "config": {"metadata": {"name": f"app-{number}"}}})
    with open(os.path.join(pod, "pod-config.json"), "w") as handle:
        json.dump({"metadata": {"name": "bench", "uid": "0", "namespace": "default"}}, handle)
    with open(os.path.join(pod, "checkpoint-manifest.json"), "w") as handle:
        json.dump({"version": 1, "runtime": "cri-o", "runtimeHandler": "runc", "sandboxId": "ab" * 32,
                   "containers": containers}, handle)
    return pod


def pod_benchmarks(args):
    """A pod checkpoint of two 1 GiB-class containers (the 1 GiB checkpoint and its changed copy): inspect,
    memparse --search and verify of the pod against the same command on each container archive in turn (verify:
    and `sha256sum` of both, since a CRI-O pod's verify checks each archive's SHA-256)."""
    binary, data, plain = one_gib_checkpoint(args)
    changed = os.path.join(make_changed_copy(os.path.dirname(plain)), "checkpoint.tar")
    pod = make_pod(data, [plain, changed])
    settle = lambda: subprocess.run(["sync"], check=True)
    both = lambda *argv: ["sh", "-c", " && ".join(
        " ".join([binary, *argv, archive]) + " > /dev/null" for archive in (plain, changed))]
    return [measure(label, lambda: run(ours), lambda: run(reference), settle, args.repeat)
            for label, ours, reference in (
                ("pod inspect --all vs containers", [binary, "inspect", "--all", pod], both("inspect", "--all")),
                ("pod memparse --search vs ctrs", [binary, "memparse", "--search", NEEDLE.decode(), pod],
                 both("memparse", "--search", NEEDLE.decode())),
                ("pod verify vs ctrs + sha256sum", [binary, "verify", pod],
                 ["sh", "-c", both("verify")[2] + f" && sha256sum {plain} {changed} > /dev/null"]))]


def kubelet_benchmarks(args):
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

    print("references: extract = tar -I zstd -cf; insert = tar -xf; show = tar -tf (same files, same run)")
    shutil.rmtree(work, ignore_errors=True)
    return results


def startup_benchmarks(args):
    """Start-up: whole short runs, alternating with upstream's Go binary ($CHECKPOINTCTL_UPSTREAM) or, without it,
    with tar on the same small archive; medians of --runs runs. Then the binary's size and its shared libraries."""
    binary = os.path.abspath(args.binary)
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
    archive = os.path.abspath(os.path.join(fixtures, "busybox-sleep.tar"))
    upstream = os.environ.get("CHECKPOINTCTL_UPSTREAM")
    cases = [
        ("--version", [binary, "--version"], [upstream, "--version"] if upstream else ["tar", "--version"]),
        ("show (small archive)", [binary, "show", archive],
         [upstream, "show", archive] if upstream else ["tar", "-tvf", archive]),
        ("inspect (small archive)", [binary, "inspect", archive],
         [upstream, "inspect", archive] if upstream else ["tar", "-tvf", archive]),
        ("completion bash", [binary, "completion", "bash"],
         [upstream, "completion", "bash"] if upstream else ["tar", "--version"]),
    ]
    size = os.path.getsize(archive)
    reference_name = "upstream" if upstream else "tar"
    print(f"start-up, medians of {args.runs} alternating runs (archive: {os.path.basename(archive)}, "
          f"{size / 1024:.0f} KiB; reference: {upstream or 'tar --version / tar -tvf'})")
    print(f"{'command':<26} {'checkpointctl':>14} {reference_name:>10} {'ratio':>7}")
    for label, ours, reference in cases:
        ours_times, reference_times = [], []
        for _ in range(args.runs):
            for argv, times in ((ours, ours_times), (reference, reference_times)):
                start = time.perf_counter()
                subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times.append(time.perf_counter() - start)
        ours_ms, reference_ms = statistics.median(ours_times) * 1000, statistics.median(reference_times) * 1000
        print(f"{label:<26} {ours_ms:>11.2f} ms {reference_ms:>7.2f} ms {ours_ms / reference_ms:>6.2f}x")
    with tempfile.TemporaryDirectory() as scratch:
        stripped = os.path.join(scratch, "checkpointctl")
        subprocess.run(["strip", "-o", stripped, binary], check=True)
        print(f"binary: {os.path.getsize(binary) / 1e6:.1f} MB, stripped {os.path.getsize(stripped) / 1e6:.1f} MB")
    libraries = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout.split("\n")
    names = [line.split()[0] for line in libraries if line.strip()]
    print(f"shared libraries ({len(names)}): {' '.join(names)}")
    _, peak = run([binary, "--version"])
    print(f"peak RSS of --version: {peak:.1f} MiB")


if __name__ == "__main__":
    main()
