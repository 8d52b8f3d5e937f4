"""Compare sealing a PDF through ``POST /api/v1/seal`` with a bare pyHanko signature.

Run with ``.venv/bin/python bench/seal_pdf.py``. It builds a 50-page PDF of about 1 MB
(a line of text and an incompressible image on every page), starts ``notarium serve`` on
a free loopback port with a temporary data directory, and then, alternating in one run:

* **bare**: pyHanko's ``PdfSigner.sign_pdf`` in this process, B-T, with the server's
  own seal key and certificate and the same TSA (``PyHankoTimeStamper`` over a
  ``TimeStampAuthority`` on the server's TSA key, serials from the server's database);
* **http**: the same PDF posted to the server's ``/api/v1/seal`` (B-T, the route's
  default), authenticated with an API key of the ``seal`` scope; the multipart body is
  built once, so only the request itself is timed.

It prints the medians and 95th percentiles, and the ratio of the medians (target: the
route at most 1.2 times the bare signature). Then it seals a PDF just under the 10 MB
limit and reports the server process's peak resident memory during that request
(``VmHWM`` in ``/proc/<pid>/status``, reset first through ``clear_refs``) against its
resident memory before it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from notarium.adapters.pki.keystore import KeyStore
from notarium.adapters.store.db import make_engine, make_session_factory
from notarium.adapters.store.serials import DatabaseSerialSource
from notarium.app.settings import Settings
from notarium.core.clock import SystemClock
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.stamper import InProcessStamper
from notarium.products.pdf_seal.material import load_seal_material
from notarium.products.pdf_seal.sealer import PyHankoTimeStamper

TARGET_RATIO = 1.2
HOST = "127.0.0.1"
PAGES = 50
REASON = "Benchmark seal"
START_TIMEOUT = 60.0
TEN_MB = 10 * 1024 * 1024


def build_pdf(pages: int, image_side: int) -> bytes:
    """``pages`` pages, each with text and a ``image_side``² RGB image of random bytes,
    which Flate cannot shrink: the file's size is set by the images."""
    # Binary image streams, as most PDF writers store them; reportlab's default ASCII85
    # wrapping would add a quarter to their size.
    rl_config.useA85 = 0
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica", 14)
        pdf.drawString(72, 770, f"Benchmark document, page {number} of {pages}")
        noise = Image.frombytes("RGB", (image_side, image_side), os.urandom(3 * image_side**2))
        pdf.drawImage(ImageReader(noise), 72, 300, width=400, height=400)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def notarium(*args: str) -> list[str]:
    return [sys.executable, "-c", "from notarium.cli.main import main; main()", *args]


@contextmanager
def server(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, str]]]:
    port = free_port()
    url = f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARIUM_")}
    env.update(
        {
            "NOTARIUM_DATA_DIR": str(data_dir),
            "NOTARIUM_BASE_URL": url,
            # Nothing leaves loopback: no public OpenTimestamps calendars.
            "NOTARIUM_OTS_CALENDARS": "",
            # 30 seals a minute per key would turn a long run into 429s.
            "NOTARIUM_RATE_LIMITS_ENABLED": "false",
        }
    )
    log = data_dir.parent / "server.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            notarium("serve", "--host", HOST, "--port", str(port)),
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield process, url, env
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seal_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        notarium("keys", "create", "--account", "default", "--scope", "seal", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"keys create failed:\n{done.stdout}{done.stderr}")
    return str(json.loads(done.stdout)["api_key"])


def bare_signer(data_dir: Path) -> Callable[[bytes, int | None], bytes]:
    """pyHanko alone, on the server's seal key and TSA key, as the route uses them."""
    settings = Settings(data_dir=data_dir)
    material = load_seal_material(settings.keys_dir)
    keystore = KeyStore(settings.keys_dir, settings.organisation)
    authority = TimeStampAuthority(
        FileTokenSigner.from_files(*keystore.tsa_key_paths()),
        policy_oid=settings.tsa_policy_oid,
        accuracy_ms=settings.tsa_accuracy_ms,
        clock=SystemClock(),
    )
    # The TSA's serials come from its issuance table, one committed row per token, in
    # the server's own database: that durable, unique numbering is part of the TSA, not
    # something the route adds.
    serials = DatabaseSerialSource(
        make_session_factory(make_engine(settings.database())), SystemClock()
    )
    timestamper = PyHankoTimeStamper(InProcessStamper(authority, serials))

    def der(certificate: object) -> asn1_x509.Certificate:
        encoded = certificate.public_bytes(serialization.Encoding.DER)  # type: ignore[attr-defined]
        return asn1_x509.Certificate.load(encoded)

    signer = signers.SimpleSigner(
        signing_cert=der(material.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            material.private_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([der(material.ca_certificate)]),
    )

    def sign(pdf: bytes, reserved: int | None) -> bytes:
        out = io.BytesIO()
        signers.PdfSigner(
            signers.PdfSignatureMetadata(
                field_name=f"Seal-{uuid.uuid4().hex}",
                reason=REASON,
                subfilter=fields.SigSeedSubFilter.PADES,
            ),
            signer=signer,
            timestamper=timestamper,
        ).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
            output=out,
            bytes_reserved=reserved,
        )
        return out.getvalue()

    return sign


def contents_space(sealed: bytes) -> int:
    """The /Contents room pyHanko reserved for the last signature of ``sealed``."""
    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[-1:]
    _, end, start, _ = signature.sig_object["/ByteRange"]
    return int(start) - int(end) - 2


def multipart(pdf: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="reason"\r\n\r\n'
        f"{REASON}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="bench.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return (
        head + pdf + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def memory_kib(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds of ``pid`` so far (``/proc/<pid>/stat``, in ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    """Make VmHWM start again from the current RSS (Linux 4.0+: ``echo 5 > clear_refs``)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def measure(
    sides: dict[str, Callable[[], bytes]], pid: int, document: bytes, warmup: int, runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds and CPU seconds per seal for each side, the sides alternating.

    CPU time is disturbed far less than wall time by other load on the machine: this
    process's for bare; the server process's plus this process's (the HTTP client) for
    http.
    """
    times: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in [*sides, "server"]}
    for round_ in range(warmup + runs):
        # Rotate which side goes first, so drift in the machine's load falls on all.
        names = list(sides)
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            server_cpu = process_cpu(pid)
            own_cpu = time.process_time()
            started = time.perf_counter()
            sealed = sides[name]()
            elapsed = time.perf_counter() - started
            used = time.process_time() - own_cpu
            served = process_cpu(pid) - server_cpu if name == "http" else 0.0
            if not sealed.startswith(document):
                raise RuntimeError(f"{name}: not an incremental update")
            if round_ >= warmup:
                times[name].append(elapsed)
                cpu[name].append(used + served)
                if name == "http":
                    cpu["server"].append(served)
    return times, cpu


def report(times: dict[str, list[float]], cpu: dict[str, list[float]]) -> float:
    runs = len(times["bare"])
    print(f"\n{'side':<9} {'median':>9} {'p95':>9} {'cpu/seal':>9}   ({runs} runs each)")
    for name in times:
        median, tail = statistics.median(times[name]) * 1e3, p95(times[name]) * 1e3
        used = statistics.fmean(cpu[name]) * 1e3
        print(f"{name:<9} {median:>7.1f}ms {tail:>7.1f}ms {used:>7.1f}ms")
    server = statistics.fmean(cpu["server"]) * 1e3
    client = statistics.fmean(cpu["http"]) * 1e3 - server
    print(f"{'':<29}(http: server {server:.1f}ms, client {client:.1f}ms)")

    def ratios(baseline: str) -> tuple[float, float]:
        wall = statistics.median(times["http"]) / statistics.median(times[baseline])
        return wall, statistics.fmean(cpu["http"]) / statistics.fmean(cpu[baseline])

    ratio, cpu_ratio = ratios("bare")
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"http/bare:     {ratio:.3f} (medians), {cpu_ratio:.3f} (cpu); "
        f"target <= {TARGET_RATIO}: {verdict}"
    )
    overhead, cpu_overhead = ratios("reserved")
    print(
        f"http/reserved: {overhead:.3f} (medians), {cpu_overhead:.3f} (cpu): the route's own cost"
    )
    return ratio


def peak_memory(post: Callable[[], bytes], pid: int, size: int) -> None:
    """Seal one large upload and report the server's peak RSS against its RSS before."""
    before = memory_kib(pid)
    resettable = reset_peak(pid)
    started = time.perf_counter()
    post()
    elapsed = time.perf_counter() - started
    after = memory_kib(pid)
    peak = after["VmHWM"] if resettable else max(after["VmHWM"], before["VmHWM"])
    growth = (peak - before["VmRSS"]) / 1024
    print(
        f"\n{size / 1e6:.2f} MB upload sealed in {elapsed * 1e3:.0f} ms; server RSS before "
        f"{before['VmRSS'] / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB (+{growth:.1f} MiB, "
        f"{growth * 1024 * 1024 / size:.1f}x the upload)"
        + ("" if resettable else "; VmHWM could not be reset: peak since start")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed seals per side")
    parser.add_argument("--warmup", type=int, default=3, help="untimed seals per side first")
    args = parser.parse_args()

    document = build_pdf(PAGES, 80)
    big = build_pdf(PAGES, 258)
    if len(big) > TEN_MB - 4096:
        raise SystemExit(f"the large PDF came out at {len(big)} bytes, over the limit")
    print(f"document: {PAGES} pages, {len(document) / 1e6:.2f} MB; large: {len(big) / 1e6:.2f} MB")

    workdir = Path(tempfile.mkdtemp(prefix="notarium-bench-seal-"))
    try:
        data_dir = workdir / "data"
        with server(data_dir) as (process, url, env), httpx.Client(base_url=url, timeout=120) as c:
            key = seal_key(env)
            sign = bare_signer(data_dir)

            def poster(pdf: bytes) -> Callable[[], bytes]:
                body, content_type = multipart(pdf)
                headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}

                def post() -> bytes:
                    response = c.post("/api/v1/seal", content=body, headers=headers)
                    if response.status_code != 200:
                        raise RuntimeError(f"seal failed: {response.status_code} {response.text}")
                    return response.content

                return post

            # pyHanko sizes a signature's /Contents by first building a dummy one; the
            # sealer does that once and reuses the size, which "reserved" gives pyHanko too.
            reserved = contents_space(sign(document, None))
            sides = {
                "bare": lambda: sign(document, None),
                "reserved": lambda: sign(document, reserved),
                "http": poster(document),
            }
            times, cpu = measure(sides, process.pid, document, args.warmup, args.runs)
            ratio = report(times, cpu)
            peak_memory(poster(big), process.pid, len(big))
        return 0 if ratio <= TARGET_RATIO else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
