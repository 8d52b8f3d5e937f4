"""The web capture document's Python, Node.js and shell examples against a real
`notarium serve`, with only the base URL, the key and the URL to certify changed.

The URL is a page of the local test website. The document asks for "a valid https://
address"; the test pages are plain http on 127.0.0.1, which the server admits only
because its egress allowlist (NOTARIUM_EGRESS_ALLOWLIST) names 127.0.0.1, exactly as an
operator would allowlist an internal test host. Each example must leave a
certificate.pdf that is a sealed certificate pyHanko validates against the server's CA.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from server import Server, free_port, server_env

from fakes.pages import LocalSite
from unit.sealing.support import Validators

pytestmark = pytest.mark.slow

# A capture takes seconds; the first one also launches the browsers.
TIMEOUT = 180
# One line of the shell example, longer than this file's lines may be.
RECORDING_ID_LINE = (
    'RECORDING_ID=$(echo "$CERT" | python3 -c "import sys,json; '
    "print(json.load(sys.stdin)['recordingId'])\")"
)


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("webcapture-examples") / "data"
    port = free_port()
    env = server_env(
        data_dir,
        NOTARIUM_EGRESS_ALLOWLIST="127.0.0.1",
        NOTARIUM_OTS_CALENDARS="",
        # The 302 of .../download points here: the server's own address.
        NOTARIUM_BASE_URL=f"http://127.0.0.1:{port}",
    )
    srv = Server(data_dir, env, port=port)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def page(site: LocalSite) -> str:
    return site.url("/plain")


def assert_sealed_certificate(server: Server, pdf: Path, tmp_path: Path) -> None:
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF"), data[:64]
    ca = (server.data_dir / "keys" / "ca.cert.pem").read_bytes()
    (tmp_path / "validators").mkdir()
    checked = Validators(tmp_path / "validators", ca).pyhanko(data)
    assert checked.returncode == 0 and "INTACT:TRUSTED" in checked.output, checked.output


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_python_example(server: Server, page: str, tmp_path: Path) -> None:
    work = tmp_path / "python"
    work.mkdir()
    (work / "example.py").write_text(f'''import requests

API_KEY = "{server.api_key}"
BASE    = "{server.url}"

# Create a certificate
resp = requests.post(
    f"{{BASE}}/api/v1/certificates",
    json={{"url": "{page}"}},
    headers={{"Authorization": f"Bearer {{API_KEY}}"}},
)
resp.raise_for_status()
data = resp.json()
recording_id = data["recordingId"]

# Download the PDF
pdf = requests.get(
    f"{{BASE}}/api/v1/certificates/{{recording_id}}/download",
    headers={{"Authorization": f"Bearer {{API_KEY}}"}},
    allow_redirects=True,
)
pdf.raise_for_status()
with open("certificate.pdf", "wb") as f:
    f.write(pdf.content)
print(f"Certificate saved ({{len(pdf.content)}} bytes)")
''')
    result = run([sys.executable, "example.py"], work)
    assert result.stdout.startswith("Certificate saved (")
    assert_sealed_certificate(server, work / "certificate.pdf", tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_example(server: Server, page: str, tmp_path: Path) -> None:
    work = tmp_path / "node"
    work.mkdir()
    # An ES module, since the example awaits at the top level; ES modules have no
    # `require`, so the one line that uses it gets one from `createRequire`, and the
    # example's own lines stay as the document prints them.
    (work / "example.mjs").write_text(f"""import {{ createRequire }} from "module";
const require = createRequire(import.meta.url);

const API_KEY = process.env.INSTANTPROOF_API_KEY;
const BASE    = "{server.url}";

// Create a certificate
const res = await fetch(`${{BASE}}/api/v1/certificates`, {{
  method: "POST",
  headers: {{
    "Authorization": `Bearer ${{API_KEY}}`,
    "Content-Type": "application/json",
  }},
  body: JSON.stringify({{ url: "{page}" }}),
}});
if (!res.ok) throw new Error(`${{res.status}} ${{await res.text()}}`);
const {{ recordingId, links }} = await res.json();

// Download the PDF
const pdf = await fetch(`${{BASE}}${{links.certificate}}`, {{
  headers: {{ "Authorization": `Bearer ${{API_KEY}}` }},
  redirect: "follow",
}});
const buffer = Buffer.from(await pdf.arrayBuffer());
require("fs").writeFileSync("certificate.pdf", buffer);
""")
    env = {**server.env, "INSTANTPROOF_API_KEY": server.api_key}
    run(["node", "example.mjs"], work, env)
    assert_sealed_certificate(server, work / "certificate.pdf", tmp_path)


def test_shell_example(server: Server, page: str, tmp_path: Path) -> None:
    work = tmp_path / "shell"
    work.mkdir()
    (work / "example.sh").write_text(f"""# Set your key
export INSTANTPROOF_API_KEY="{server.api_key}"

# Create
CERT=$(curl -sf -X POST {server.url}/api/v1/certificates \\
  -H "Authorization: Bearer $INSTANTPROOF_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{{"url":"{page}"}}')

echo "$CERT" | python3 -m json.tool

{RECORDING_ID_LINE}

# Download
curl -sfL \\
  -H "Authorization: Bearer $INSTANTPROOF_API_KEY" \\
  "{server.url}/api/v1/certificates/$RECORDING_ID/download" \\
  -o certificate.pdf

ls -lh certificate.pdf
""")
    # `set -e`: a failed curl must fail the test, not just print nothing.
    result = run(["bash", "-e", "example.sh"], work, server.env)
    assert '"status": "ready"' in result.stdout
    assert f'"url": "{page}"' in result.stdout
    assert_sealed_certificate(server, work / "certificate.pdf", tmp_path)
